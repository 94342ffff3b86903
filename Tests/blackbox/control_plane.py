#!/usr/bin/env python3
"""Black-box test: two nodes on one PostgreSQL control plane, administered with `--control-plane`.

    python3 Tests/blackbox/control_plane.py --vigil .build/debug/vigil

Starts its own PostgreSQL 15 through `scripts/test-servers start postgres` (in a temp dir of its own, stopped by
PID at the end), then two `vigil serve` nodes with their own data directories, one sharing a master key through
VIGIL_MASTER_KEY, node A given `--control-plane`, node B `VIGIL_CONTROL_PLANE`:

1. `vigil tenant create` run against the control plane: the new tenant's key scores on both nodes.
2. `vigil keys rotate --tenant`: payments scored on both nodes afterwards are sealed with the new data-key version
   (`vigil events export`).
3. `vigil tenant api-keys --add` then `--revoke` of the first key: the new key scores on both nodes, the old one
   is refused on both.
4. `vigil tenant list` and `vigil audit export` read the control plane; the audit chain verifies and records every
   change; no API key, and not the database password, appears in any output or log.
5. A malformed `--control-plane` is refused naming the expected form; a PostgreSQL that is not there gives an error
   within a bounded time.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import time

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCORE = "/v1/payments/score"
PROPAGATION_DEADLINE = 15.0  # how long the test waits for a change to reach a node; docs promise 2 s


def start_postgres(tmp: str) -> tuple[str, dict[str, str]]:
    env = dict(os.environ, TMPDIR=tmp)
    script = os.path.join(ROOT, "scripts", "test-servers")
    cp = subprocess.run([script, "start", "postgres"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    c.check(cp.returncode == 0, f"scripts/test-servers start postgres failed: {cp.stderr.decode(errors='replace')}")
    with open(os.path.join(tmp, "vigil-test-servers", "env"), encoding="utf-8") as fh:
        match = re.search(r"VIGIL_TEST_POSTGRES_URL='([^']+)'", fh.read())
    c.check(match is not None, "scripts/test-servers wrote no VIGIL_TEST_POSTGRES_URL")
    return match.group(1), env


def stop_postgres(env: dict[str, str]) -> None:
    subprocess.run([os.path.join(ROOT, "scripts", "test-servers"), "stop"], env=env, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cli(vigil: str, args: list[str], env: dict[str, str], *, check_status: bool = True,
        timeout: float = 30.0) -> subprocess.CompletedProcess:
    cmd = [vigil, *args]
    try:
        cp = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=timeout)
    except subprocess.TimeoutExpired:
        c.fail(f"`vigil {args[0]} {args[1]}` did not finish within {timeout:.0f}s")
    if check_status and cp.returncode != 0:
        c.fail(f"`vigil {' '.join(args[:2])}` exited {cp.returncode}: {cp.stderr.decode(errors='replace')[-1500:]}")
    return cp


def status(port: int, key: str, payment_id: str) -> int:
    return c.request(port, "POST", SCORE, body=payment(payment_id), headers=c.score_headers(key)).status


def payment(payment_id: str) -> dict:
    return {
        "paymentId": payment_id, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": "125.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"name": "Canary Debtor", "account": {"sortCode": "404142", "accountNumber": "12345678"}},
        "creditor": {"name": "Bob Payee", "account": {"iban": "GB82WEST12345698765432"}},
    }


def wait_for(description: str, condition) -> None:
    deadline = time.monotonic() + PROPAGATION_DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    c.fail(f"{description} within {PROPAGATION_DEADLINE:.0f}s")


def key_versions(vigil: str, data_dir: str, env: dict[str, str], url: str, payment_id: str) -> set[int]:
    """The data-key versions that sealed a payment's fields in a node's event log."""
    cp = cli(vigil, ["events", "export", "--data-dir", data_dir, "--control-plane", url], env)
    versions: set[int] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            if set(value) == {"c", "k"}:
                versions.add(value["k"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for line in cp.stdout.splitlines():
        record = json.loads(line)
        if record.get("paymentId") == payment_id:
            walk(record)
    return versions


def closed_port() -> int:
    with socket.socket() as s:
        s.bind((c.HOST, 0))
        return s.getsockname()[1]


def body(args) -> None:
    vigil = args.vigil
    tmp = c.make_temp_dir("vigil-cp-")
    url, pg_env = start_postgres(tmp)
    password = re.match(r"postgres://[^:]+:([^@]+)@", url).group(1)
    try:
        env = dict(os.environ, VIGIL_MASTER_KEY=secrets.token_hex(32))
        env.pop("VIGIL_CONTROL_PLANE", None)
        admin = ["--control-plane", url]
        dirs = [os.path.join(tmp, "node-a"), os.path.join(tmp, "node-b")]
        node_a = c.Server(vigil, dirs[0], name="node-a", env=env, extra_args=admin).start()
        node_a.wait_ready()
        node_b = c.Server(vigil, dirs[1], name="node-b", env=dict(env, VIGIL_CONTROL_PLANE=url)).start()
        node_b.wait_ready()
        nodes = [node_a, node_b]
        demo = c.read_demo_key(dirs[0])
        c.check(not os.path.exists(os.path.join(dirs[1], "demo.key")), "the second node made a second demo tenant")
        for node in nodes:
            c.check(status(node.port, demo, c.new_payment_id("demo")) == 200, f"{node.name} does not score the demo tenant")

        c.log("1. tenant create on the control plane: the key scores on both nodes")
        created = cli(vigil, ["tenant", "create", "bank-b", *admin], env)
        key = created.stdout.decode().strip()
        c.check(key.startswith("vgl_") and "\n" not in key, f"tenant create should print one key, got {created.stdout!r}")
        for node in nodes:
            wait_for(f"{node.name} did not accept bank-b's key",
                     lambda node=node: status(node.port, key, c.new_payment_id("new")) == 200)

        c.log("2. keys rotate: both nodes seal with the new data-key version")
        rotated = cli(vigil, ["keys", "rotate", "--tenant", "bank-b", *admin], env).stdout.decode().strip()
        match = re.fullmatch(r"bank-b: data key version (\d+)", rotated)
        c.check(match is not None, f"keys rotate printed {rotated!r}")
        version = int(match.group(1))
        for node, data_dir in zip(nodes, dirs):
            def sealed_with_new_key(node=node, data_dir=data_dir) -> bool:
                payment_id = c.new_payment_id("rotated")
                c.check(status(node.port, key, payment_id) == 200, f"{node.name} stopped scoring bank-b")
                return key_versions(vigil, data_dir, env, url, payment_id) == {version}
            wait_for(f"{node.name} did not seal with data key version {version}", sealed_with_new_key)

        c.log("3. api-keys --add / --revoke: the new key works and the old one is refused on both nodes")
        new_key = cli(vigil, ["tenant", "api-keys", "bank-b", "--add", *admin], env).stdout.decode().strip()
        listed = cli(vigil, ["tenant", "list", *admin], env).stdout.decode()
        line = next((ln for ln in listed.splitlines() if ln.startswith("bank-b\t")), None)
        c.check(line is not None, f"tenant list lacks bank-b: {listed!r}")
        old_id = line.split("\t")[5].split(",")[0]
        cli(vigil, ["tenant", "api-keys", "bank-b", "--revoke", old_id, *admin], env)
        for node in nodes:
            wait_for(f"{node.name} still accepts the revoked key",
                     lambda node=node: status(node.port, key, c.new_payment_id("old")) == 401)
            c.check(status(node.port, new_key, c.new_payment_id("roll")) == 200, f"{node.name} refuses the new key")

        c.log("4. audit export reads the chained log from PostgreSQL; nothing secret in it or in any output")
        audit = cli(vigil, ["audit", "export", *admin], env).stdout
        records = [json.loads(ln) for ln in audit.splitlines()]
        actions = [r["action"] for r in records]
        for action in ("tenant.create", "keys.rotate", "tenant.api-key.add", "tenant.api-key.revoke", "tenants.reload"):
            c.check(action in actions, f"the audit log lacks {action}: {actions}")
        c.check([r["seq"] for r in records] == list(range(1, len(records) + 1)), "audit sequence numbers have gaps")
        for secret in (key, new_key, demo, password):
            c.check(secret.encode() not in audit, "a secret reached the audit log")
            for node in nodes:
                c.check(secret not in node.output_tail(10_000), f"a secret reached {node.name}'s output")

        c.log("5. a malformed address and an absent PostgreSQL are refused, in bounded time")
        bad = cli(vigil, ["tenant", "list", "--control-plane", "postgres://vigil:pw-canary@127.0.0.1/"], env,
                  check_status=False)
        err = bad.stderr.decode()
        c.check(bad.returncode != 0 and "postgres://user[:password]@host:port/database" in err and "pw-canary" not in err,
                f"a malformed --control-plane should name the expected form without echoing it: {err!r}")
        absent = f"postgres://vigil:pw-canary@127.0.0.1:{closed_port()}/vigil"
        started = time.monotonic()
        down = cli(vigil, ["tenant", "create", "bank-c", "--control-plane", absent], env, check_status=False, timeout=20)
        err = down.stderr.decode()
        c.check(down.returncode != 0 and "PostgreSQL at postgres://vigil@127.0.0.1" in err and "pw-canary" not in err,
                f"an absent PostgreSQL should be a clear error without the password: {err!r}")
        c.log(f"   absent PostgreSQL answered in {time.monotonic() - started:.1f}s")

        for node in nodes:
            c.check(node.terminate() == 0, f"{node.name} did not stop cleanly")
    finally:
        stop_postgres(pg_env)


if __name__ == "__main__":
    c.run_main("control_plane", __doc__, body, time_limit=150.0)
