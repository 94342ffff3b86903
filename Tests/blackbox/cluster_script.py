#!/usr/bin/env python3
"""Black-box test: `scripts/cluster up` starts a working scaled-out Vigil on loopback, `scripts/cluster down` stops it.

    python3 Tests/blackbox/cluster_script.py --vigil .build/debug/vigil

Runs the script as a user would (with VIGIL=the binary under test and its own TMPDIR), twice:

1. `down` with nothing up says so and succeeds.
2. `up --nodes 2 --port P` prints http://127.0.0.1:P and the demo tenant's key; PostgreSQL, Redis, the nodes and
   HAProxy run; through that port (HAProxy), payments sent one connection each are scored by both nodes, and the
   retries of one payment, wherever they land, are duplicates of its first score (the nodes share Redis).
3. The control plane is the cluster's PostgreSQL: its env file names it (VIGIL_CONTROL_PLANE) and the master key's
   file, and `up` prints how to use them; `vigil tenant list --control-plane` there lists the demo tenant; a tenant
   made by `vigil tenant create … --control-plane` with that master key, while the cluster runs, scores on every
   node within PROPAGATION_DEADLINE, and through HAProxy on every node.
4. `up` again refuses: it says the cluster is already up, and the cluster still serves.
5. `down` stops every process it started (by the PIDs it recorded; PostgreSQL included) and removes its directory;
   PostgreSQL's port no longer accepts connections.
6. The same with `--redis-cluster --nodes 3`: a 3-primary Redis Cluster behind three nodes.
7. `up --regions 2 --nodes 1 --port P`: two regions (a Redis, a `vigil-kafka-mock` and a node each behind its own
   HAProxy, on P and P+1) on one PostgreSQL; a payment scored through a's port and retried through b's is b's
   duplicate with a's scoreId; `--regions 2 --redis-cluster` is refused; `down` stops all of it.

Needs redis-server, redis-cli, haproxy and PostgreSQL 15 (scripts/test installs Debian's).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "cluster")
SCORE = "/v1/payments/score"
PROPAGATION_DEADLINE = 10.0  # seconds a new tenant may take to reach every node; docs/control-plane.md says about 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind((c.HOST, 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, vigil: str, tmp: str) -> None:
        self.vigil = vigil
        self.env = {**os.environ, "VIGIL": vigil, "TMPDIR": tmp}
        self.state = os.path.join(tmp, "vigil-cluster")

    def run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([SCRIPT, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            c.fail(f"`scripts/cluster {' '.join(args)}` did not finish within {timeout:.0f}s")
            raise

    def pids(self) -> list[tuple[int, str]]:
        try:
            with open(os.path.join(self.state, "pids")) as f:
                return [(int(pid), name) for pid, name in (line.split() for line in f if line.strip())]
        except OSError:
            return []

    def node_ports(self) -> list[int]:
        with open(os.path.join(self.state, "haproxy.cfg")) as f:
            return [int(p) for p in re.findall(r"(?m)^\s*server node\d+ 127\.0\.0\.1:(\d+) check$", f.read())]


def alive(pid: int, name: str) -> bool:
    """Whether PID still runs NAME (not a zombie waiting for its reaper: it has exited)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(") ", 1)[1].split(" ", 1)[0]
    except (OSError, IndexError):
        return False
    return comm == name and state != "Z"


def kill_leftovers(pids: list[tuple[int, str]]) -> None:
    """Whatever a failed run left behind, by PID (only processes still running what was started)."""
    for pid, name in pids:
        if alive(pid, name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def payment(pid: str, account: str) -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "amount": "25.00",
        "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "404142", "accountNumber": account}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def vigil_cli(cluster: Cluster, args: list[str], env: dict[str, str], label: str) -> str:
    try:
        cp = subprocess.run([cluster.vigil, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=30)
    except subprocess.TimeoutExpired:
        c.fail(f"{label}: `vigil {' '.join(args[:2])}` did not finish within 30s")
        raise
    c.check(cp.returncode == 0, f"{label}: `vigil {' '.join(args[:2])}` exited {cp.returncode}: {cp.stderr[-1500:]}")
    return cp.stdout


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((c.HOST, port), timeout=2):
            return True
    except OSError:
        return False


def spread_over_nodes(lb_port: int, ports: list[int], key: str, label: str, prefix: str) -> list[int]:
    """Sends 12 payments through HAProxy, one connection each; every one must score. Returns each node's share."""
    before = [decisions(p) for p in ports]
    for i in range(12):
        resp = c.request(lb_port, "POST", SCORE, body=payment(c.new_payment_id(f"{prefix}-{i}"), f"{10000000 + i}"),
                         headers=c.score_headers(key))
        c.check(resp.status == 200, f"{label}: through HAProxy, {resp.status}: {resp.body[:300]!r}")
    spread = [decisions(p) - b for p, b in zip(ports, before)]
    c.check(sum(spread) == 12 and all(n > 0 for n in spread), f"{label}: every node should score: {spread}")
    return spread


def check_control_plane(cluster: Cluster, env: dict[str, str], up_output: str, lb_port: int, ports: list[int],
                        label: str) -> None:
    """The nodes' control plane is the cluster's PostgreSQL: a tenant made there while they run scores on each."""
    url = env.get("VIGIL_CONTROL_PLANE", "").strip("'")
    c.check(re.fullmatch(r"postgres://vigil:[0-9a-f]{32}@127\.0\.0\.1:\d+/vigil", url) is not None,
            f"{label}: the env file's VIGIL_CONTROL_PLANE is not the cluster's PostgreSQL")
    pg_port = int(url.rsplit(":", 1)[1].split("/")[0])
    c.check(accepts_connections(pg_port), f"{label}: PostgreSQL does not accept connections on {pg_port}")
    master_key_file = env.get("VIGIL_CLUSTER_MASTER_KEY_FILE", "").strip("'")
    c.check(master_key_file == os.path.join(cluster.state, "master.key")
            and os.stat(master_key_file).st_mode & 0o077 == 0
            and os.stat(os.path.join(cluster.state, "env")).st_mode & 0o077 == 0,
            f"{label}: the master key's file ({master_key_file!r}) and the env file must exist, 0600")
    c.check('tenant create bank-b --control-plane "$VIGIL_CONTROL_PLANE"' in up_output
            and "VIGIL_CLUSTER_MASTER_KEY_FILE" in up_output,
            f"{label}: `up` does not print how to run an admin verb against the cluster: {up_output}")
    c.check(url.split("@")[0].rsplit(":", 1)[1] not in up_output, f"{label}: `up` printed PostgreSQL's password")

    with open(master_key_file) as f:
        admin_env = {**os.environ, "VIGIL_MASTER_KEY": f.read().strip()}
    admin_env.pop("VIGIL_CONTROL_PLANE", None)
    listed = vigil_cli(cluster, ["tenant", "list", "--control-plane", url], admin_env, label)
    c.check(any(line.startswith("demo\t") for line in listed.splitlines()),
            f"{label}: the control plane lacks the demo tenant node 1 made: {listed!r}")
    key = vigil_cli(cluster, ["tenant", "create", "bank-t", "--control-plane", url], admin_env, label).strip()
    c.check(key.startswith("vgl_") and "\n" not in key, f"{label}: tenant create should print one key")
    for port in ports:
        deadline = time.monotonic() + PROPAGATION_DEADLINE
        while True:
            status = c.request(port, "POST", SCORE, body=payment(c.new_payment_id("cl-new"), "33333333"),
                               headers=c.score_headers(key)).status
            if status == 200:
                break
            c.check(status == 401, f"{label}: node on {port} answered {status} for the new tenant's key")
            c.check(time.monotonic() < deadline,
                    f"{label}: the node on {port} did not accept the new tenant's key within {PROPAGATION_DEADLINE:.0f}s")
            time.sleep(0.1)
    spread = spread_over_nodes(lb_port, ports, key, label, "cl-new-lb")
    c.log(f"ok   {label}: PostgreSQL is the control plane; a tenant created there scores through HAProxy on every "
          f"node {spread}")


def decisions(port: int) -> int:
    resp = c.request(port, "GET", "/metrics")
    c.check(resp.status == 200, f"/metrics on {port}: {resp.status}")
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in resp.body.decode().splitlines()
                   if line.startswith("vigil_decisions_total")))


def try_cluster(cluster: Cluster, args: list[str], nodes: int, label: str) -> None:
    lb_port = free_port()
    up = cluster.run("up", *args, "--port", str(lb_port), timeout=90)
    c.check(up.returncode == 0, f"{label}: `up` exited with {up.returncode}\n{up.stdout[-1500:]}\n{up.stderr[-3000:]}")
    started = cluster.pids()
    try:
        c.check(f"URL      http://127.0.0.1:{lb_port}" in up.stdout, f"{label}: `up` does not print the URL: {up.stdout}")
        with open(os.path.join(cluster.state, "node1", "demo.key")) as f:
            key = f.read().strip()
        c.check(f"API key  {key}" in up.stdout, f"{label}: `up` does not print the demo tenant's key: {up.stdout}")
        running = [name for pid, name in started if alive(pid, name)]
        redis = 3 if "--redis-cluster" in args else 1
        c.check(sorted(running) == sorted(["postgres", "haproxy", *["redis-server"] * redis,
                                           *[os.path.basename(cluster.vigil)] * nodes]),
                f"{label}: running {running} of the recorded {started}")
        ports = cluster.node_ports()
        c.check(len(ports) == nodes, f"{label}: haproxy.cfg has {len(ports)} server lines, not {nodes}")
        with open(os.path.join(cluster.state, "env")) as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines())
        c.check(env.get("VIGIL_CLUSTER_URL") == f"'http://127.0.0.1:{lb_port}'"
                and env.get("VIGIL_CLUSTER_NODE_PORTS") == "'" + " ".join(map(str, ports)) + "'"
                and env.get("VIGIL_CLUSTER_STATE", "").startswith("'redis+cluster://" if redis == 3 else "'redis://"),
                f"{label}: its env file: {env}")

        spread = spread_over_nodes(lb_port, ports, key, label, "cl")
        body = payment(c.new_payment_id("cl-retry"), "22222222")
        first = c.request(lb_port, "POST", SCORE, body=body, headers=c.score_headers(key)).json()
        c.check(first.get("duplicate") is False, f"{label}: first send: {first}")
        for _ in range(2 * nodes):
            again = c.request(lb_port, "POST", SCORE, body=body, headers=c.score_headers(key))
            c.check(again.status == 200 and again.json().get("duplicate") is True
                    and again.json().get("scoreId") == first.get("scoreId"),
                    f"{label}: a retry through HAProxy is not the first score's duplicate: {again.body[:300]!r}")
        c.log(f"ok   {label}: 12 payments spread over the nodes {spread}, retries duplicates on every node")

        check_control_plane(cluster, env, up.stdout, lb_port, ports, label)
        pg_port = int(env["VIGIL_CONTROL_PLANE"].strip("'").rsplit(":", 1)[1].split("/")[0])

        twice = cluster.run("up", *args, "--port", str(free_port()))
        c.check(twice.returncode != 0 and "already up" in twice.stderr,
                f"{label}: a second `up` should say it is already up: {twice.returncode} {twice.stderr!r}")
        c.check(c.request(lb_port, "GET", "/ready").status == 200, f"{label}: the cluster stopped serving after a second `up`")
        c.log(f"ok   {label}: a second `up` says it is already up and changes nothing")

        down = cluster.run("down")
        c.check(down.returncode == 0 and "stopped" in down.stdout, f"{label}: `down`: {down.returncode} {down.stderr!r}")
        c.check(not any(alive(pid, name) for pid, name in started), f"{label}: `down` left processes running")
        c.check(not os.path.exists(cluster.state), f"{label}: `down` left {cluster.state}")
        c.check(not accepts_connections(pg_port), f"{label}: PostgreSQL still accepts connections after `down`")
        c.log(f"ok   {label}: `down` stopped all {len(started)} processes and removed its directory")
    finally:
        kill_leftovers(started)


def try_regions(cluster: Cluster) -> None:
    label = "two regions"
    refused = cluster.run("up", "--regions", "2", "--redis-cluster", "--port", str(free_port()))
    c.check(refused.returncode != 0 and "cannot be a Redis Cluster" in refused.stderr,
            f"{label}: --regions 2 with --redis-cluster should be refused: {refused.returncode} {refused.stderr!r}")
    lb_port = free_port()
    while accepts_connections(lb_port + 1):
        lb_port = free_port()
    up = cluster.run("up", "--regions", "2", "--nodes", "1", "--port", str(lb_port), timeout=90)
    c.check(up.returncode == 0, f"{label}: `up` exited with {up.returncode}\n{up.stdout[-1500:]}\n{up.stderr[-3000:]}")
    started = cluster.pids()
    try:
        c.check(f"region a http://127.0.0.1:{lb_port}" in up.stdout and f"region b http://127.0.0.1:{lb_port + 1}" in up.stdout,
                f"{label}: `up` does not print both regions' URLs: {up.stdout}")
        running = sorted(name for pid, name in started if alive(pid, name))
        vigil = os.path.basename(cluster.vigil)
        c.check(running == sorted(["postgres", "haproxy", "haproxy", "redis-server", "redis-server",
                                   "vigil-kafka-moc", "vigil-kafka-moc", vigil, vigil]),
                f"{label}: running {running} of the recorded {started}")
        with open(os.path.join(cluster.state, "a-node1", "demo.key")) as f:
            key = f.read().strip()
        body = payment(c.new_payment_id("rg-retry"), "33333333")
        first = c.request(lb_port, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(first.status == 200 and first.json().get("duplicate") is False, f"{label}: at a: {first.body[:300]!r}")
        again = c.request(lb_port + 1, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(again.status == 200 and again.json().get("duplicate") is True
                and again.json().get("scoreId") == first.json().get("scoreId"),
                f"{label}: a retry at b is not a's duplicate: {again.body[:300]!r}")
        c.log(f"ok   {label}: scored through a's HAProxy, the retry through b's is a's duplicate")
        down = cluster.run("down")
        c.check(down.returncode == 0 and "stopped" in down.stdout, f"{label}: `down`: {down.returncode} {down.stderr!r}")
        c.check(not any(alive(pid, name) for pid, name in started), f"{label}: `down` left processes running")
        c.check(not os.path.exists(cluster.state), f"{label}: `down` left {cluster.state}")
        c.log(f"ok   {label}: `down` stopped all {len(started)} processes and removed its directory")
    finally:
        kill_leftovers(started)


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-cluster-test-")
    cluster = Cluster(args.vigil, tmp)
    nothing = cluster.run("down")
    c.check(nothing.returncode == 0 and "nothing is up" in nothing.stdout,
            f"`down` with nothing up: {nothing.returncode} {nothing.stdout!r} {nothing.stderr!r}")
    c.log("ok   `down` with nothing up says so")
    try_cluster(cluster, ["--nodes", "2"], 2, "2 nodes, one Redis")
    try_cluster(cluster, ["--nodes", "3", "--redis-cluster"], 3, "3 nodes, a Redis Cluster")
    try_regions(cluster)


if __name__ == "__main__":
    c.run_main("cluster_script", __doc__, main, time_limit=330.0)
