#!/usr/bin/env python3
"""Black-box test: `scripts/cluster up` starts a working scaled-out Vigil on loopback, `scripts/cluster down` stops it.

    python3 Tests/blackbox/cluster_script.py --vigil .build/debug/vigil

Runs the script as a user would (with VIGIL=the binary under test and its own TMPDIR), twice:

1. `down` with nothing up says so and succeeds.
2. `up --nodes 2 --port P` prints http://127.0.0.1:P and the demo tenant's key; through that port (HAProxy), payments
   sent one connection each are scored by both nodes, and the retries of one payment, wherever they land, are
   duplicates of its first score (the nodes share Redis).
3. `up` again refuses: it says the cluster is already up, and the cluster still serves.
4. `down` stops every process it started (by the PIDs it recorded) and removes its directory.
5. The same with `--redis-cluster --nodes 3`: a 3-primary Redis Cluster behind three nodes.

Needs redis-server, redis-cli and haproxy (scripts/test installs Debian's).
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
        c.check(sorted(running) == sorted(["haproxy", *["redis-server"] * redis, *[os.path.basename(cluster.vigil)] * nodes]),
                f"{label}: running {running} of the recorded {started}")
        ports = cluster.node_ports()
        c.check(len(ports) == nodes, f"{label}: haproxy.cfg has {len(ports)} server lines, not {nodes}")
        with open(os.path.join(cluster.state, "env")) as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines())
        c.check(env.get("VIGIL_CLUSTER_URL") == f"'http://127.0.0.1:{lb_port}'"
                and env.get("VIGIL_CLUSTER_NODE_PORTS") == "'" + " ".join(map(str, ports)) + "'"
                and env.get("VIGIL_CLUSTER_STATE", "").startswith("'redis+cluster://" if redis == 3 else "'redis://"),
                f"{label}: its env file: {env}")

        before = [decisions(p) for p in ports]
        for i in range(12):
            resp = c.request(lb_port, "POST", SCORE, body=payment(c.new_payment_id(f"cl-{i}"), f"{10000000 + i}"),
                             headers=c.score_headers(key))
            c.check(resp.status == 200, f"{label}: through HAProxy, {resp.status}: {resp.body[:300]!r}")
        spread = [decisions(p) - b for p, b in zip(ports, before)]
        c.check(sum(spread) == 12 and all(n > 0 for n in spread), f"{label}: every node should score: {spread}")
        body = payment(c.new_payment_id("cl-retry"), "22222222")
        first = c.request(lb_port, "POST", SCORE, body=body, headers=c.score_headers(key)).json()
        c.check(first.get("duplicate") is False, f"{label}: first send: {first}")
        for _ in range(2 * nodes):
            again = c.request(lb_port, "POST", SCORE, body=body, headers=c.score_headers(key))
            c.check(again.status == 200 and again.json().get("duplicate") is True
                    and again.json().get("scoreId") == first.get("scoreId"),
                    f"{label}: a retry through HAProxy is not the first score's duplicate: {again.body[:300]!r}")
        c.log(f"ok   {label}: 12 payments spread over the nodes {spread}, retries duplicates on every node")

        twice = cluster.run("up", *args, "--port", str(free_port()))
        c.check(twice.returncode != 0 and "already up" in twice.stderr,
                f"{label}: a second `up` should say it is already up: {twice.returncode} {twice.stderr!r}")
        c.check(c.request(lb_port, "GET", "/ready").status == 200, f"{label}: the cluster stopped serving after a second `up`")
        c.log(f"ok   {label}: a second `up` says it is already up and changes nothing")

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


if __name__ == "__main__":
    c.run_main("cluster_script", __doc__, main, time_limit=150.0)
