#!/usr/bin/env python3
"""Black-box test: two nodes on one Redis (`vigil serve --state redis://…`) are one scoring service.

    python3 Tests/blackbox/shared_state.py --vigil .build/debug/vigil

Starts its own `redis-server` (a free loopback port, AOF with `appendfsync always`, its own temp dir) and two nodes
with `--state redis://127.0.0.1:P`. The nodes share one master key and one set of tenants (node B's data directory is
a copy of node A's, made before either scores); each keeps its own event log. No load balancer: the test sends to
each node directly.

1. Velocity across nodes: 20 payments of one debtor sent to each node at once (threads); the next payment's
   `debtor.count_24h` is 40.
2. One payment, one score: one `paymentId` sent to both nodes at once, by 12 threads, five times over. Each time
   exactly one answer is a first score; the others are duplicates of it (200, `duplicate: true`, its scoreId) or
   409 payment-in-progress, and the union of both nodes' event logs holds the payment exactly once.
3. Redis killed: a payment gets, within the client's 5 s, 503 problem+json `urn:vigil:problem:unavailable` with
   Retry-After on both nodes, and nothing is acknowledged; `/ready` turns 503. Redis restarted on its AOF: `/ready`
   is 200 again by itself, a payment acknowledged before is a duplicate, and the refused payment scores once.
4. A node restarted (SIGTERM, start) replays nothing (its log says 0 recovered events although its event log is not
   empty), and the debtor's count goes on from where the two nodes left it.

The features are read from `vigil events export`, which each node logged as it scored. Needs `redis-server`
(scripts/test installs Debian's).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

import common as c

SCORE = "/v1/payments/score"
CLIENT_TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((c.HOST, 0))
        return s.getsockname()[1]


class RedisServer:
    """One `redis-server` on a loopback port, AOF with `appendfsync always` in its own directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{c.HOST}:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", c.HOST, "--port", str(self.port), "--dir", self.directory,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
             "--logfile", os.path.join(self.directory, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        # common's teardown (and its watchdog) kill every tracked process by PID: Redis too.
        with c._servers_lock:
            c._servers.add(self)
        deadline = time.monotonic() + 10
        while not self.answers():
            c.check(self.proc.poll() is None, f"redis-server exited with {self.proc.returncode}: {self.log_tail()}")
            c.check(time.monotonic() < deadline, f"redis-server on {self.port} did not answer PING: {self.log_tail()}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection((c.HOST, self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL this process only (a crash: what AOF `appendfsync always` must survive) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        with c._servers_lock:
            c._servers.discard(self)

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.directory, "redis.log"), errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return "(no log)"


_amounts = itertools.count(10_000)
_amounts_lock = threading.Lock()


def payment(pid: str, debtor: str, amount: str | None = None) -> dict:
    """A payment of its own: two payments with the same accounts, amount and createdAt are one payment to the
    consortium (both banks' requests for it count once), so each gets an amount no other has."""
    if amount is None:
        with _amounts_lock:
            pennies = next(_amounts)
        amount = f"{pennies // 100}.{pennies % 100:02d}"
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": amount, "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "404142", "accountNumber": debtor}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def post(node: c.Server, key: str, body: dict) -> c.Response:
    return c.request(node.port, "POST", SCORE, body=body, headers=c.score_headers(key), timeout=CLIENT_TIMEOUT)


def scored(node: c.Server, key: str, body: dict) -> dict:
    resp = post(node, key, body)
    c.check(resp.status == 200, f"{node.name}: {body['paymentId']} got {resp.status}: {resp.body[:300]!r}")
    return resp.json()


def at_once(jobs: list) -> list:
    """Runs every job on its own thread, all released together; returns their results (or exceptions) in order."""
    results: list = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # noqa: BLE001 - reported by the caller with the others
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    c.check(not any(t.is_alive() for t in threads), "a request thread did not finish within 30 s")
    return results


def ready_status(node: c.Server) -> int:
    try:
        return c.request(node.port, "GET", "/ready", timeout=CLIENT_TIMEOUT).status
    except OSError as exc:
        c.fail(f"{node.name}: GET /ready did not answer within {CLIENT_TIMEOUT:.0f}s: {exc!r}")
        raise


def until(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        c.check(time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def recovered_events(node: c.Server) -> list[str]:
    """The `vigil.recovery.events` of every "Recovery finished; ready" line the node has logged, oldest first."""
    counts = []
    for line in node.stderr_lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "Recovery finished; ready":
            counts.append(entry.get("vigil.recovery.events"))
    return counts


def main(args) -> None:
    c.check(shutil.which("redis-server") is not None, "redis-server is not installed (scripts/test installs it)")
    tmp = c.make_temp_dir("vigil-shared-state-")
    redis_dir = os.path.join(tmp, "redis")
    os.mkdir(redis_dir)
    redis = RedisServer(redis_dir)
    redis.start()

    data_a, data_b = os.path.join(tmp, "node-a"), os.path.join(tmp, "node-b")
    c.init_data_dir(args.vigil, data_a)
    shutil.copytree(data_a, data_b, ignore=shutil.ignore_patterns("events"))
    key = c.read_demo_key(data_a)
    state = ["--state", redis.url]
    node_a = c.Server(args.vigil, data_a, name="node-a", extra_args=state).start()
    node_b = c.Server(args.vigil, data_b, name="node-b", extra_args=state).start()
    node_a.wait_ready()
    node_b.wait_ready()
    nodes = (node_a, node_b)
    rng = random.Random()
    debtor = f"{rng.randrange(10**8):08d}"
    acknowledged: list[dict] = []  # the bodies, so that a retry repeats the request exactly

    # 1. Velocity across nodes.
    def sender(node: c.Server, n: int):
        def send() -> list[dict]:
            bodies = [payment(c.new_payment_id(f"ss-{node.name}-{n}-{i}"), debtor) for i in range(4)]
            for body in bodies:
                c.check(scored(node, key, body).get("duplicate") is False, f"{body['paymentId']}: a duplicate")
            return bodies
        return send

    results = at_once([sender(node, n) for node in nodes for n in range(5)])
    for r in results:
        if isinstance(r, Exception):
            raise r
        acknowledged.extend(r)
    c.check(len(acknowledged) == 40, f"sent 40, got {len(acknowledged)}")
    next_a = scored(node_a, key, payment(c.new_payment_id("ss-next-a"), debtor))["paymentId"]
    c.log("ok   40 payments of one debtor on two nodes at once (10 threads), all scored")

    # 2. One paymentId, both nodes, at once.
    contested: list[str] = []
    for round_ in range(5):
        body = payment(c.new_payment_id(f"ss-race{round_}"), f"{rng.randrange(10**8):08d}")
        contested.append(body["paymentId"])
        answers = at_once([lambda node=node: post(node, key, body) for node in nodes for _ in range(6)])
        firsts, duplicates, in_progress = [], [], 0
        for a in answers:
            if isinstance(a, Exception):
                raise a
            if a.status == 200:
                (duplicates if a.json().get("duplicate") is True else firsts).append(a.json())
            elif a.status == 409 and a.json().get("type") == "urn:vigil:problem:payment-in-progress":
                in_progress += 1
            else:
                c.fail(f"race {round_}: unexpected answer {a.status}: {a.body[:300]!r}")
        c.check(len(firsts) == 1, f"race {round_}: {len(firsts)} first scores of one paymentId on two nodes, not 1")
        c.check(all(d.get("scoreId") == firsts[0].get("scoreId") for d in duplicates),
                f"race {round_}: a duplicate answer does not carry the first score's scoreId")
        c.log(f"ok   race {round_}: one paymentId 12 times on two nodes at once: 1 first score, "
              f"{len(duplicates)} duplicates, {in_progress} in progress")

    # 3. Redis killed, then restarted on its AOF.
    redis.kill()
    refused = payment(c.new_payment_id("ss-refused"), debtor)
    for node in nodes:
        try:
            resp = post(node, key, refused)
        except OSError as exc:
            c.fail(f"{node.name}: with Redis down, no answer within {CLIENT_TIMEOUT:.0f}s: {exc!r}")
        c.check(resp.status == 503, f"{node.name}: with Redis down, {resp.status}: {resp.body[:300]!r}")
        c.check(resp.media_type == "application/problem+json", f"{node.name}: media type {resp.media_type!r}")
        c.check(resp.json().get("type") == "urn:vigil:problem:unavailable", f"{node.name}: {resp.body[:300]!r}")
        c.check(resp.header("Retry-After") is not None, f"{node.name}: a 503 without Retry-After")
        c.check(refused["paymentId"].encode() not in resp.body and debtor.encode() not in resp.body,
                f"{node.name}: the problem echoes a submitted value: {resp.body!r}")
    for node in nodes:
        until(f"{node.name}'s /ready to answer 503 with Redis down", lambda node=node: ready_status(node) == 503, 10)
    c.log("ok   Redis killed: 503 urn:vigil:problem:unavailable with Retry-After on both nodes, /ready 503")

    redis.start()
    for node in nodes:
        until(f"{node.name}'s /ready to answer 200 once Redis is back", lambda node=node: ready_status(node) == 200, 15)
    for node in nodes:
        retry = scored(node, key, acknowledged[0])
        c.check(retry.get("duplicate") is True, f"{node.name}: a payment acknowledged before the crash: {retry}")
    again = scored(node_a, key, refused)
    c.check(again.get("duplicate") is False, f"the payment refused with Redis down was remembered: {again}")
    c.log("ok   Redis restarted on its AOF: ready again, earlier payments are duplicates, the refused one scores once")

    # 4. A node restarted replays nothing and the count goes on.
    c.check(node_b.terminate() == 0, "node B did not stop cleanly on SIGTERM")
    node_b.start()
    node_b.wait_ready()
    # The line is written just after the node turns ready; the reader thread may not have it yet.
    deadline = time.monotonic() + 5
    while len(recovered_events(node_b)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    counts = recovered_events(node_b)
    c.check(len(counts) == 2 and counts[-1] == "0",
            f"node B after a restart on Redis state should recover 0 events, logged {counts}")
    retry = scored(node_b, key, acknowledged[-1])
    c.check(retry.get("duplicate") is True, f"restarted node B: an acknowledged payment is not a duplicate: {retry}")
    next_b = scored(node_b, key, payment(c.new_payment_id("ss-next-b"), debtor))["paymentId"]
    c.log("ok   node B restarted: 0 events replayed, ready, retries still duplicates")

    for node in nodes:
        c.check(node.terminate() == 0, f"{node.name} did not stop cleanly on SIGTERM")
    names = [line.split("\t")[0] for line in c.run_cli(args.vigil, ["features", "list"]).stdout.decode().splitlines()]
    logged = {name: c.export_events(args.vigil, data)[0] for name, data in (("a", data_a), ("b", data_b))}
    features = {r["paymentId"]: dict(zip(names, r["features"])) for records in logged.values() for r in records}
    count_a = features[next_a].get("debtor.count_24h")
    c.check(count_a == 40, f"debtor.count_24h after 40 payments on two nodes is {count_a!r}, expected 40")
    # The 40, the one after them and the one refused while Redis was down (scored once Redis was back).
    count_b = features[next_b].get("debtor.count_24h")
    c.check(count_b == 42, f"debtor.count_24h on restarted node B is {count_b!r}, expected 42")
    c.check(logged["b"] and recovered_events(node_b)[-1] == "0", "node B's event log is empty: the restart proves nothing")
    ids = [r["paymentId"] for records in logged.values() for r in records]
    for pid in [*(b["paymentId"] for b in acknowledged), *contested, refused["paymentId"], next_a, next_b]:
        c.check(ids.count(pid) == 1, f"{pid} is in the nodes' event logs {ids.count(pid)} times, not once")
    c.log(f"ok   events export: debtor.count_24h 40 then 42 across nodes and a restart; {len(ids)} events, each once")
    redis.kill()


if __name__ == "__main__":
    c.run_main("shared_state", __doc__, main, time_limit=90.0)
