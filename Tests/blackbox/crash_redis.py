#!/usr/bin/env python3
"""Black-box crash test: two nodes on one Redis lose and repeat nothing acknowledged through kill -9 of a node and of
Redis.

    python3 Tests/blackbox/crash_redis.py --vigil .build/debug/vigil

Starts its own `redis-server` (a free loopback port, AOF with `appendfsync always`, its own temp dir) and two nodes
with `--state redis://127.0.0.1:P --durability fsync` (node B's data directory is a copy of node A's without its event
log, as an operator sets nodes up). Client threads send payments to both nodes at once: distinct payment ids over
8 debtors, `createdAt` now. Each thread is a bank's client: it records every 200 with the node that gave it, and
retries a refused or failed request (503, 409 payment-in-progress, a connection error, a timeout) with the same body,
on the other node, until it is acknowledged or the test's deadline. Other answers are failures.

While the load runs: node A is killed with SIGKILL, and restarted on the same data dir and port; later redis-server
is killed with SIGKILL and restarted on its AOF (same dir, same port). New payments stop a little later; the threads
go on retrying until every payment is acknowledged or the deadline (45 s after Redis is back, past the 30 s a dead
node's reservation lives). Then:

1. every acknowledged payment id is in the union of both nodes' `vigil events export` exactly once, with the scoreId
   it was acknowledged with; no payment id is there twice, and nothing there was not sent;
2. a retry of every acknowledged payment, on each node, answers 200 `duplicate: true` with the original scoreId, and
   adds nothing to the event logs;
3. one more payment per debtor: its `debtor.count_24h` (from events export) equals the number of that debtor's
   payments in the union.

Every check runs and the failures are reported together. Needs `redis-server` (scripts/test installs Debian's).
"""
from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import threading
import time
from collections import Counter
from typing import Any

import common as c
from shared_state import RedisServer, free_port

SCORE = "/v1/payments/score"
THREADS = 10
DEBTORS = 8
CLIENT_TIMEOUT = 5.0
RESERVATION_SECONDS = 30.0  # how long a dead node's duplicate reservation lives (docs/redis.md)
RETRY_GRACE = RESERVATION_SECONDS + 15.0
TIME_LIMIT = 115.0


class Payment:
    """One payment as a client holds it: the exact bytes it sends and resends, and what became of it."""

    def __init__(self, pid: str, debtor: str, body: bytes) -> None:
        self.pid = pid
        self.debtor = debtor
        self.body = body
        self.attempts: list[tuple[float, str, str]] = []  # (seconds since the load started, node, outcome)
        self.acked_by: str | None = None
        self.response: dict | None = None


class Load:
    """The client threads and what they saw."""

    def __init__(self, nodes: dict[str, c.Server], key: str, debtors: list[str]) -> None:
        self.nodes = nodes
        self.key = key
        self.debtors = debtors
        self.run = f"{random.SystemRandom().getrandbits(24):06x}"
        self.creditors = [c.random_gb_iban(random.Random(f"{self.run}-{i}")) for i in range(16)]
        self.lock = threading.Lock()
        self.payments: list[Payment] = []
        self.unexpected: list[str] = []
        self.retried = Counter()  # outcome kind -> count of attempts that were retried
        self.new_payments = threading.Event()  # set: the threads stop starting new payments
        self.deadline = time.monotonic() + TIME_LIMIT  # moved earlier by the test once it knows when Redis is back
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(THREADS)]

    def acknowledged(self) -> list[Payment]:
        with self.lock:
            return [p for p in self.payments if p.acked_by is not None]

    def count_acked_by(self, node: str) -> int:
        with self.lock:
            return sum(1 for p in self.payments if p.acked_by == node)

    def body(self, pid: str, rng: random.Random, debtor: str | None = None) -> tuple[str, bytes]:
        debtor = debtor or rng.choice(self.debtors)
        body = {
            "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
            "amount": f"{rng.randrange(1, 5000)}.{rng.randrange(100):02d}", "currency": "GBP",
            "createdAt": c.rfc3339_now(),
            "debtor": {"account": {"sortCode": "404142", "accountNumber": debtor}},
            "creditor": {"account": {"iban": rng.choice(self.creditors)}},
        }
        return debtor, json.dumps(body).encode()

    def client(self, number: int) -> None:
        rng = random.Random(f"{self.run}-{number}")
        names = list(self.nodes)
        connections: dict[str, c.KeepAliveClient] = {}
        turn = number % len(names)
        n = 0
        try:
            while not self.new_payments.is_set():
                n += 1
                pid = f"cr-{self.run}-t{number}-{n:05d}"
                debtor, body = self.body(pid, rng)
                payment = Payment(pid, debtor, body)
                with self.lock:
                    self.payments.append(payment)
                # New payments alternate between the nodes; a retry goes to the other node.
                node = names[turn]
                turn = (turn + 1) % len(names)
                while payment.acked_by is None and time.monotonic() < self.deadline:
                    pause = self.attempt(payment, node, connections)
                    if payment.acked_by is None and pause is None:
                        return  # an answer a client must not retry: recorded in `unexpected`
                    if payment.acked_by is None:
                        node = names[(names.index(node) + 1) % len(names)]
                        time.sleep(pause)
        finally:
            for connection in connections.values():
                connection.close()

    def attempt(self, payment: Payment, node: str, connections: dict[str, c.KeepAliveClient]) -> float | None:
        """Sends the payment once; returns the pause before a retry, or None when it must not be retried."""
        server = self.nodes[node]
        try:
            if node not in connections:
                connections[node] = c.KeepAliveClient(server.port, self.key, timeout=CLIENT_TIMEOUT)
            status, data = connections[node].post_json(SCORE, payment.body)
        except Exception as exc:  # noqa: BLE001 - refused, reset or timed out: a client retries
            if node in connections:
                connections.pop(node).close()
            self.note(payment, node, f"no answer ({type(exc).__name__})", "no answer")
            return 0.1
        if status == 200:
            try:
                response = json.loads(data)
                score_id = response["scoreId"]
            except (ValueError, KeyError, TypeError) as exc:
                with self.lock:
                    self.unexpected.append(f"{payment.pid} on {node}: 200 with unusable body ({exc!r}): {data[:200]!r}")
                return None
            with self.lock:
                payment.attempts.append((self.elapsed(), node, f"200 duplicate={response.get('duplicate')} {score_id}"))
                payment.response = response
                payment.acked_by = node
            return 0.0
        kind = None
        try:
            kind = json.loads(data).get("type") if status in (409, 503) else None
        except ValueError:
            pass
        if status == 503 and kind == "urn:vigil:problem:unavailable":
            self.note(payment, node, "503 unavailable", "503")
            return 0.1
        if status == 409 and kind == "urn:vigil:problem:payment-in-progress":
            self.note(payment, node, "409 in progress", "409 in progress")
            return 0.5
        with self.lock:
            self.unexpected.append(f"{payment.pid} on {node}: HTTP {status}: {data[:300]!r}")
        return None

    def elapsed(self) -> float:
        """Seconds since the load started: the clock of the failure reports and of the kills in the test's log."""
        return time.monotonic() - self.started

    def clock(self) -> str:
        return f"{self.elapsed():.2f}s"

    def note(self, payment: Payment, node: str, outcome: str, kind: str) -> None:
        with self.lock:
            payment.attempts.append((self.elapsed(), node, outcome))
            self.retried[kind] += 1


def wait_for(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        c.check(time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def ready(node: c.Server) -> bool:
    try:
        return c.request(node.port, "GET", "/ready", timeout=2.0).status == 200
    except (OSError, http.client.HTTPException):
        return False


def union(vigil: str, data_dirs: dict[str, str]) -> list[tuple[str, dict]]:
    """Every record of every node's event log, with the node that logged it."""
    return [(name, record) for name, data in data_dirs.items() for record in c.export_events(vigil, data)[0]]


def history(payment: Payment) -> str:
    """The client's attempts; a run of one refusal (on alternating nodes) is folded into its first and last time."""
    runs: list[list] = []  # [first time, last time, node, outcome, count]
    for at, node, outcome in payment.attempts:
        if runs and runs[-1][3] == outcome and not outcome.startswith("200"):
            runs[-1][1] = at
            runs[-1][4] += 1
        else:
            runs.append([at, at, node, outcome, 1])
    parts = [f"{first:.2f}s {node}: {outcome}" if n == 1 else f"{first:.2f}-{last:.2f}s {outcome} x{n}"
             for first, last, node, outcome, n in runs]
    return f"{payment.pid} (debtor {payment.debtor}): " + "; ".join(parts)


def main(args: Any) -> None:
    c.check(shutil.which("redis-server") is not None, "redis-server is not installed (scripts/test installs it)")
    tmp = c.make_temp_dir("vigil-crash-redis-")
    redis_dir = os.path.join(tmp, "redis")
    os.mkdir(redis_dir)
    data_dirs = {"node-a": os.path.join(tmp, "node-a"), "node-b": os.path.join(tmp, "node-b")}
    redis = RedisServer(redis_dir)
    node_a = node_b = None
    load = None
    try:
        redis.start()
        c.init_data_dir(args.vigil, data_dirs["node-a"])
        shutil.copytree(data_dirs["node-a"], data_dirs["node-b"], ignore=shutil.ignore_patterns("events"))
        key = c.read_demo_key(data_dirs["node-a"])
        common_args = ["--state", redis.url, "--durability", "fsync"]
        # Node A keeps its port across its crash, as a node behind a load balancer does.
        node_a = c.Server(args.vigil, data_dirs["node-a"], name="node-a",
                          extra_args=[*common_args, "--port", str(free_port())]).start()
        node_b = c.Server(args.vigil, data_dirs["node-b"], name="node-b", extra_args=common_args).start()
        node_a.wait_ready()
        node_b.wait_ready()
        rng = random.Random()
        debtors = [f"{n:08d}" for n in rng.sample(range(10**8), DEBTORS)]
        load = Load({"node-a": node_a, "node-b": node_b}, key, debtors)
        for t in load.threads:
            t.start()
        c.log(f"load: {THREADS} client threads, {DEBTORS} debtors, run {load.run}; redis pid {redis.proc.pid} port "
              f"{redis.port}; node A pid {node_a.pid} port {node_a.port}; node B pid {node_b.pid} port {node_b.port}")

        # kill -9 node A mid-stream, once it has acknowledged a good number of payments; restart it on its port.
        wait_for("node A to acknowledge 150 payments", lambda: load.count_acked_by("node-a") >= 150, 30)
        port_a, acked_a = node_a.port, load.count_acked_by("node-a")
        node_a.kill()
        c.log(f"{load.clock()} node A killed (SIGKILL) after {acked_a} acknowledgements; "
              f"{len(load.acknowledged())} in all")
        time.sleep(0.5)
        node_a.start()
        c.check(node_a.port == port_a, f"node A restarted on port {node_a.port}, not {port_a}")
        node_a.wait_ready()
        c.log(f"{load.clock()} node A restarted (pid {node_a.pid}, port {node_a.port}) and ready")

        # Later: kill -9 Redis under both nodes; restart it on its AOF, same dir and port.
        before = len(load.acknowledged())
        wait_for("150 more acknowledgements after node A's restart", lambda: len(load.acknowledged()) >= before + 150, 30)
        redis.kill()
        c.log(f"{load.clock()} redis-server killed (SIGKILL) after {len(load.acknowledged())} acknowledgements")
        time.sleep(1.0)
        redis.start()
        c.log(f"{load.clock()} redis-server restarted on its AOF (pid {redis.proc.pid}, port {redis.port})")
        load.deadline = time.monotonic() + RETRY_GRACE
        wait_for("both nodes' /ready once Redis is back", lambda: ready(node_a) and ready(node_b), 15)
        c.log(f"{load.clock()} both nodes ready")

        before = len(load.acknowledged())
        wait_for("100 more acknowledgements after Redis's restart", lambda: len(load.acknowledged()) >= before + 100, 30)
        load.new_payments.set()
        c.log(f"{load.clock()} new payments stopped; the clients finish their retries")
        for t in load.threads:
            t.join(max(0.0, load.deadline - time.monotonic()) + CLIENT_TIMEOUT + 1)
        c.check(not any(t.is_alive() for t in load.threads), "a client thread did not stop after the deadline")
        if load.unexpected:
            c.fail("answers a client cannot retry:\n  " + "\n  ".join(load.unexpected[:10]))
        acked = load.acknowledged()
        by_pid = {p.pid: p for p in load.payments}
        pending = [p for p in load.payments if p.acked_by is None]
        c.log(f"load stopped: {len(load.payments)} payments, {len(acked)} acknowledged "
              f"({sum(p.acked_by == 'node-a' for p in acked)} by A, {sum(p.acked_by == 'node-b' for p in acked)} by B), "
              f"{len(pending)} not acknowledged by the deadline; attempts retried: {dict(load.retried)}")
        for p in pending[:5]:
            c.log(f"  not acknowledged: {history(p)}")

        problems: list[str] = []

        # 1. Every acknowledged payment in the union of the nodes' event logs, exactly once, as acknowledged.
        logged = union(args.vigil, data_dirs)
        where: dict[str, list[tuple[str, dict]]] = {}
        for name, record in logged:
            where.setdefault(record["paymentId"], []).append((name, record))
        twice = {pid: entries for pid, entries in where.items() if len(entries) > 1}
        missing = [p for p in acked if p.pid not in where]
        phantom = [pid for pid in where if pid not in by_pid]
        wrong = [(p, where[p.pid][0][1]["response"].get("scoreId")) for p in acked
                 if len(where.get(p.pid, [])) == 1 and where[p.pid][0][1]["response"].get("scoreId") != p.response["scoreId"]]
        for pid, entries in list(twice.items())[:5]:
            payment = by_pid.get(pid)
            problems.append(
                f"{pid} is in the union {len(entries)} times: "
                + ", ".join(f"{name} seq {r['sequence']} scoreId {r['response'].get('scoreId')}" for name, r in entries)
                + f"; acknowledged: {payment.response.get('scoreId') if payment and payment.response else 'no'}; "
                + (f"client: {history(payment)}" if payment else "never sent"))
        if len(twice) > 5:
            problems.append(f"... {len(twice)} payment ids in the union more than once in all")
        for p in missing[:5]:
            problems.append(f"acknowledged {p.pid} is in neither node's event log; client: {history(p)}")
        if len(missing) > 5:
            problems.append(f"... {len(missing)} acknowledged payments missing from the union in all")
        for p, score_id in wrong[:5]:
            problems.append(f"{p.pid} is logged with scoreId {score_id}, acknowledged with {p.response['scoreId']}; "
                            f"client: {history(p)}")
        if phantom:
            problems.append(f"{len(phantom)} logged payment ids were never sent, e.g. {phantom[:3]}")
        unacked_logged = [pid for pid in where if pid in by_pid and by_pid[pid].acked_by is None]
        c.log(f"{'ok  ' if not (twice or missing or wrong or phantom) else 'FAIL'} union of the event logs: "
              f"{len(logged)} events, {len(acked) - len(missing)}/{len(acked)} acknowledged present, "
              f"{len(twice)} ids more than once, {len(unacked_logged)} logged but not acknowledged")

        # 2. A retry of every acknowledged payment, on each node, is a duplicate with the original scoreId.
        lock = threading.Lock()
        not_duplicate: list[str] = []

        def retry(chunk: list[Payment]) -> None:
            connections = {name: c.KeepAliveClient(node.port, key, timeout=CLIENT_TIMEOUT)
                           for name, node in load.nodes.items()}
            try:
                for p in chunk:
                    wrong_answers = []
                    for name, connection in connections.items():
                        try:
                            status, data = connection.post_json(SCORE, p.body)
                            answer = json.loads(data) if status == 200 else None
                        except Exception as exc:  # noqa: BLE001 - reported with the others
                            status, data, answer = None, repr(exc).encode(), None
                        if not (isinstance(answer, dict) and answer.get("duplicate") is True
                                and answer.get("scoreId") == p.response["scoreId"]):
                            summary = (f"duplicate={answer.get('duplicate')} scoreId {answer.get('scoreId')}"
                                       if isinstance(answer, dict) else f"{status} {data[:200]!r}")
                            wrong_answers.append(f"on {name}: {summary}")
                    if wrong_answers:
                        with lock:
                            not_duplicate.append(f"{p.pid} acknowledged with scoreId {p.response['scoreId']}, retried "
                                                 + ", ".join(wrong_answers) + f"; client: {history(p)}")
            finally:
                for connection in connections.values():
                    connection.close()

        retriers = [threading.Thread(target=retry, args=(acked[i::THREADS],), daemon=True) for i in range(THREADS)]
        for t in retriers:
            t.start()
        for t in retriers:
            t.join(40)
        c.check(not any(t.is_alive() for t in retriers), "the retries of the acknowledged payments took over 40 s")
        problems.extend(not_duplicate[:5])
        if len(not_duplicate) > 5:
            problems.append(f"... {len(not_duplicate)} acknowledged payments in all were not duplicates on a retry")
        c.log(f"{'ok  ' if not not_duplicate else 'FAIL'} retried {len(acked)} acknowledged payments on both nodes: "
              f"{len(not_duplicate)} of them not a duplicate with the original scoreId on one node or both")

        # 3. One more payment per debtor; its debtor.count_24h counts that debtor's payments in the union.
        probes: dict[str, str] = {}
        for i, debtor in enumerate(debtors):
            pid = c.new_payment_id(f"cr-{load.run}-probe")
            body = json.loads(load.body(pid, rng, debtor)[1])
            node = list(load.nodes.values())[i % 2]
            resp = c.request(node.port, "POST", SCORE, body=body, headers=c.score_headers(key), timeout=CLIENT_TIMEOUT)
            c.check(resp.status == 200 and resp.json().get("duplicate") is False,
                    f"probe for debtor {debtor} on {node.name}: {resp.status} {resp.body[:300]!r}")
            probes[pid] = debtor
        for node in (node_a, node_b):
            c.check(node.terminate() == 0, f"{node.name} did not stop cleanly on SIGTERM")
        after = union(args.vigil, data_dirs)
        added = Counter(r["paymentId"] for _, r in after) - Counter(r["paymentId"] for _, r in logged)
        if set(added) != set(probes) or any(n != 1 for n in added.values()):
            problems.append(f"after the retries and the probes the event logs gained "
                            f"{dict((pid, n) for pid, n in added.items() if pid not in probes)} besides the probes")
        names = [line.split("\t")[0] for line in c.run_cli(args.vigil, ["features", "list"]).stdout.decode().splitlines()]
        features = {r["paymentId"]: dict(zip(names, r["features"])) for _, r in after if r["paymentId"] in probes}
        # The union as it now stands (a payment scored again by a retry counts twice), without the probes.
        per_debtor = Counter(by_pid[r["paymentId"]].debtor for _, r in after if r["paymentId"] in by_pid)
        counts, over = [], False
        for pid, debtor in probes.items():
            count = features[pid].get("debtor.count_24h")
            counts.append(f"{debtor}: {count!r}/{per_debtor[debtor]}")
            if count != per_debtor[debtor]:
                over = True
                # A payment whose first attempt updated the feature state and then died unlogged (node A or Redis
                # killed between the two) leaves its reservation behind: its retries get 409 until that expires,
                # and then it is scored, and counted, again.
                suspects = [p for p in load.payments if p.debtor == debtor
                            and any(outcome == "409 in progress" for _, _, outcome in p.attempts)]
                problems.append(
                    f"debtor {debtor}: the next payment's debtor.count_24h is {count!r}, but the union holds "
                    f"{per_debtor[debtor]} of its payments ({sum(1 for p in acked if p.debtor == debtor)} "
                    f"acknowledged); its {len(suspects)} payments that were answered 409 in progress: "
                    + " | ".join(history(p) for p in suspects))
        c.log(f"{'FAIL' if over else 'ok  '} debtor.count_24h of one more payment against the debtor's payments in "
              f"the union (count/union): {', '.join(counts)}")

        if problems:
            c.fail("after kill -9 of a node and of Redis:\n  " + "\n  ".join(problems))
    finally:
        if load is not None:
            load.new_payments.set()
            load.deadline = 0.0
        for process in (node_a, node_b, redis):
            if process is not None:
                process.kill()  # by its PID; a no-op for one already stopped


if __name__ == "__main__":
    c.run_main("crash_redis", __doc__, main, time_limit=TIME_LIMIT)
