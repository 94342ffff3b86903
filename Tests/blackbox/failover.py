#!/usr/bin/env python3
"""Black-box failover test of two regions (issue 12 §4, docs/regions.md "The failover test").

    python3 Tests/blackbox/failover.py --vigil .build/debug/vigil

`scripts/cluster up --regions 2 --nodes 2` (its own TMPDIR, VIGIL=the binary under test) starts regions a and b:
per region a Redis, a `vigil-kafka-mock` (librdkafka's mock cluster, a test double standing for the region's
Kafka), two nodes shipping to their region's mock and folding the other's, and an HAProxy. Then:

1. Load through a: `vigil bench --url A,B --rate 200 --duration 8 --record FILE`, with A and B the regions'
   HAProxies. 2 s after a's first decision a shell beside the bench `kill -9`s both of a's nodes (a shell's
   `sleep`, because this machine was seen holding a Python parent's sleeps while a busy child ran). a's HAProxy then answers 502/503 and
   the bench moves to b: its report has `failovers` >= 1; the test prints `longestGapMs`, the failover gap.
2. Nothing acknowledged is lost: every paymentId the record shows answered 200 by a is in a's nodes' event logs
   (`vigil events export` on their data directories after the kill) with the answered scoreId; every one answered
   200 by b is in b's.
3. The loss window, measured and printed, not asserted: once b's consumer group (`vigil-region-b`) has committed
   a's topic up to its end, the payments a acknowledged that are on the topic are the ones b folded before a's
   restart; the rest were acknowledged but not yet shipped when a died.
4. A retry at b of every payment a acknowledged (the recorded body, sent again through b's HAProxy) is answered
   200 as a duplicate with a's scoreId, before a is restarted.
5. a's nodes restarted with their command lines ship the rest of their logs; b's group commits a's topic to its
   end. Every payment a acknowledged is then on the topic, b's `vigil_region_events_folded_total` (both nodes)
   counts at least as many, and a probe at b for the debtor with the most payments at a and none sent to b has
   `debtor.count_7d` equal to that debtor's payments in a's logs (read from b's exported log).

About 25 s; up to a minute more when one of b's nodes joins its group late (librdkafka 2.0.2's mock then holds
the group for its 45 s session timeout). Everything is stopped by PID (`scripts/cluster down`, and the restarted nodes by their own PIDs).
"""
from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

import common as c
from shared_state import payment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "cluster")
SCORE = "/v1/payments/score"
TOPIC = "vigil.events"
RATE, DURATION, KILL_AFTER = 200, 8, 2
GROUP_WAIT = 60  # seconds: the mock's rebalance after a late join ends at the 45 s session timeout


def free_port() -> int:
    """A free port P with P + 1 free too (region b's HAProxy), below Linux's ephemeral range as scripts/cluster's."""
    while True:
        port = random.randint(20000, 29998)
        try:
            with socket.socket() as s, socket.socket() as t:
                s.bind((c.HOST, port))
                t.bind((c.HOST, port + 1))
            return port
        except OSError:
            pass


def metric_sum(port: int, name: str) -> float:
    """A metric of a node, summed over its labels."""
    # urllib, not common.request: bench_failover.py saw common's raw-socket client wait seconds under load.
    with urllib.request.urlopen(f"http://{c.HOST}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.split("{", 1)[0].split(" ", 1)[0] == name)


def until(what: str, condition, timeout: float, last=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        c.check(time.monotonic() < deadline, f"{what} within {timeout:.0f} s (last seen: {last()})")
        time.sleep(0.2)


def folding(ports: list[int], state: str) -> str:
    """What b's nodes say about folding, for a failure's message."""
    counts = [metric_sum(port, "vigil_region_events_folded_total") for port in ports]
    tails = []
    for name in ("b-node1", "b-node2"):
        with open(os.path.join(state, name + ".log"), errors="replace") as f:
            tails.append(name + ": " + " | ".join(f.read().splitlines()[-8:]))
    return f"b's nodes folded {counts}; " + "; ".join(tails)


def read_env(path: str) -> dict[str, str]:
    env = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.strip().partition("=")
            env[name] = value.strip("'")
    return env


def node_processes(state: str) -> dict[str, tuple[int, list[str]]]:
    """The running nodes by data directory name (a-node1, …): PID and command line, from the cluster's pids file."""
    nodes = {}
    with open(os.path.join(state, "pids")) as f:
        for line in f:
            pid, name = line.split()
            if name != "vigil":
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                argv = [a.decode() for a in cmd.read().split(b"\0") if a]
            nodes[os.path.basename(argv[argv.index("--data-dir") + 1])] = (int(pid), argv)
    return nodes


def stream(bootstrap: str):
    """a's topic: the group vigil-region-b's committed offsets against the high watermarks, and the paymentIds of
    the scored-payment records on it."""
    from confluent_kafka import Consumer, TopicPartition

    group = Consumer({"bootstrap.servers": bootstrap, "group.id": "vigil-region-b", "enable.auto.commit": False})
    try:
        partitions = [TopicPartition(TOPIC, p) for p in group.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions]
        committed = {tp.partition: tp.offset for tp in group.committed(partitions, timeout=10)}
        high = {tp.partition: group.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions}
    finally:
        group.close()
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"failover-test-{uuid.uuid4()}",
                       "enable.auto.commit": False, "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    ids: set[str] = set()
    try:
        reader.assign([TopicPartition(TOPIC, p, 0) for p in high if high[p] > 0])
        open_partitions = {p for p in high if high[p] > 0}
        deadline = time.monotonic() + 20
        while open_partitions and time.monotonic() < deadline:
            message = reader.poll(0.5)
            if message is None:
                continue
            if message.error():
                c.check(message.error().code() == -191, f"reading a's topic: {message.error()}")  # _PARTITION_EOF
                if message.offset() >= high[message.partition()]:
                    open_partitions.discard(message.partition())
                continue
            record = json.loads(message.value())
            if "kind" not in record:
                ids.add(record["paymentId"])
            if message.offset() + 1 >= high[message.partition()]:
                open_partitions.discard(message.partition())
        c.check(not open_partitions, f"a's topic not read to its end: partitions {sorted(open_partitions)}")
    finally:
        reader.close()
    caught_up = all(committed.get(p, -1) >= h for p, h in high.items() if h > 0)
    return caught_up, ids, {p: (committed.get(p), high[p]) for p in high}


def logged(vigil: str, state: str, region: str, control_plane: str) -> dict[str, dict]:
    """The region's nodes' scored-payment records by paymentId (`vigil events export` on each data directory, the
    cluster's PostgreSQL as the control plane, named in the environment so its password is on no command line)."""
    records = {}
    env = {**os.environ, "VIGIL_CONTROL_PLANE": control_plane}
    for name in sorted(os.listdir(state)):
        if name.startswith(f"{region}-node") and os.path.isdir(os.path.join(state, name)):
            cp = subprocess.run([vigil, "events", "export", "--data-dir", os.path.join(state, name)], env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            c.check(cp.returncode == 0, f"events export of {name}: {cp.stderr[-1000:]!r}")
            for line in cp.stdout.splitlines():
                record = json.loads(line)
                if "kind" not in record:
                    records[record["paymentId"]] = record
    return records


def debtor_of(body: dict) -> str:
    """The debtor's account, one name for one account: a UK IBAN (GBkk, bank code, sort code, account number) is the
    account that a sort code and account number name."""
    account = body["debtor"]["account"]
    iban = account.get("iban", "").replace(" ", "").upper()
    if iban.startswith("GB") and len(iban) == 22:
        return f"uk:{iban[8:14]}:{iban[14:]}"
    if "sortCode" in account:
        return f"uk:{account['sortCode']}:{account['accountNumber']}"
    return json.dumps(account, sort_keys=True)


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-failover-")
    env = {**os.environ, "VIGIL": os.path.abspath(args.vigil), "TMPDIR": tmp}
    state = os.path.join(tmp, "vigil-cluster")
    restarted: list[subprocess.Popen] = []
    up = subprocess.run([SCRIPT, "up", "--regions", "2", "--nodes", "2", "--port", str(free_port())], env=env,
                        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    try:
        c.check(up.returncode == 0, f"scripts/cluster up --regions 2 failed: {up.stderr[-2000:]}")
        run(args, state, restarted)
    finally:
        for process in restarted:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        down = subprocess.run([SCRIPT, "down"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=90)
        c.check(down.returncode == 0, f"scripts/cluster down failed: {down.stderr[-1000:]}")


def run(args, state: str, restarted: list[subprocess.Popen]) -> None:
    vigil = args.vigil
    env = read_env(os.path.join(state, "env"))
    url_a, url_b = env["VIGIL_CLUSTER_URL"], env["VIGIL_CLUSTER_URL_B"]
    port_b = int(url_b.rsplit(":", 1)[1])
    ports_b = [int(p) for p in env["VIGIL_CLUSTER_NODE_PORTS_B"].split()]
    with open(env["VIGIL_CLUSTER_KEY_FILE"]) as f:
        key = f.read().strip()
    nodes = node_processes(state)
    a_nodes = {name: pa for name, pa in nodes.items() if name.startswith("a-")}
    c.check(len(a_nodes) == 2 and len(nodes) == 4, f"expected two nodes a region: {sorted(nodes)}")

    # 0. Steady state first, as in a deployment that has run for a while: one payment scored at a, shipped to a's
    # topic and folded and committed by b's consumer group. The waits on b's group allow 60 s: when one of b's nodes
    # joins the group after the other, librdkafka 2.0.2's mock ends that rebalance only at the session timeout
    # (45 s), and b folds nothing until then (docs/regions.md, "Not built yet"). It happens at most once a run.
    bootstrap_a = env["VIGIL_CLUSTER_KAFKA"]
    seen: dict = {}

    def b_caught_up() -> bool:
        seen["caught_up"], seen["ids"], seen["offsets"] = stream(bootstrap_a)
        return seen["caught_up"] and bool(seen["ids"])

    first = c.request(int(url_a.rsplit(":", 1)[1]), "POST", SCORE, body=payment(c.new_payment_id("failover-first"), "27182818"),
                      headers=c.score_headers(key), timeout=10)
    c.check(first.status == 200, f"a: the first payment: {first.status} {first.body[:300]!r}")
    until("b's consumer group folding a's first payment", b_caught_up, GROUP_WAIT, lambda: (seen.get("offsets"), folding(ports_b, state)))

    # 1. Load through a; a's nodes killed mid-stream.
    record = os.path.join(state, "bench-record.jsonl")
    pids = " ".join(str(pid) for pid, _ in a_nodes.values())
    # The kill waits for the bench's first decision at a (the bench builds its payments first), polled by a python3
    # of its own.
    ports_a = [int(argv[argv.index("--port") + 1]) for _, argv in a_nodes.values()]
    before = sum(metric_sum(port, "vigil_decisions_total") for port in ports_a)
    poll = "python3 -c " + shlex.quote(
        "import sys, urllib.request\n"
        f"total = 0\nfor port in {ports_a}:\n"
        f"    text = urllib.request.urlopen(f'http://{c.HOST}:{{port}}/metrics', timeout=2).read().decode()\n"
        "    total += sum(float(l.rsplit(' ', 1)[1]) for l in text.splitlines() if l.startswith('vigil_decisions_total{'))\n"
        f"sys.exit(0 if total > {before} else 1)"
    ) + " 2> /dev/null"
    script = (
        f"{vigil} bench --url {url_a},{url_b} --tenant-key {key} --rate {RATE} --duration {DURATION} --warmup 0 "
        f"--connections 8 --population 4000 --record {record} --json > {state}/bench.json 2> {state}/bench.err "
        f"& bench=$!; n=0; until {poll} || [ $n -ge 150 ]; do n=$((n + 1)); sleep 0.1; done; "
        f"sleep {KILL_AFTER}; kill -9 {pids}; wait $bench"
    )
    bench = subprocess.run(["sh", "-c", script], timeout=90)
    with open(os.path.join(state, "bench.err")) as f:
        c.check(bench.returncode == 0, f"vigil bench exited {bench.returncode}: {f.read()[-1500:]!r}")
    with open(os.path.join(state, "bench.json")) as f:
        report = json.load(f)
    with open(record) as f:
        lines = [json.loads(line) for line in f]
    c.check(report["failovers"] >= 1, f"no connection moved to b: {report}")
    acked_a = {l["paymentId"]: l for l in lines if l["url"] == url_a and l["status"] == 200}
    acked_b = {l["paymentId"]: l for l in lines if l["url"] == url_b and l["status"] == 200}
    c.check(len({l["paymentId"] for l in lines}) == len(lines), "the record holds a paymentId twice")
    c.check(acked_a and acked_b, f"a acknowledged {len(acked_a)}, b {len(acked_b)}: both should have")
    c.check(len(acked_a) + len(acked_b) == report["ok"], f"the record's 200s differ from the report's ok: {report}")
    c.log(f"ok   a's 2 nodes killed {KILL_AFTER} s into {RATE}/s: a acknowledged {len(acked_a)}, b {len(acked_b)}; "
          f"{report['failovers']} connection moves; failover gap (longestGapMs) {report['longestGapMs']:.0f} ms; "
          f"errors {report['errors']}")

    # 2. Nothing acknowledged is lost.
    logged_a = logged(vigil, state, "a", env["VIGIL_CONTROL_PLANE"])
    for pid, line in acked_a.items():
        c.check(pid in logged_a, f"{pid}, acknowledged by a, is not in a's nodes' logs")
        c.check(logged_a[pid]["response"]["scoreId"] == line["scoreId"], f"{pid}: a logged another scoreId")
    logged_b = logged(vigil, state, "b", env["VIGIL_CONTROL_PLANE"])
    for pid, line in acked_b.items():
        c.check(pid in logged_b, f"{pid}, acknowledged by b, is not in b's nodes' logs")
        c.check(logged_b[pid]["response"]["scoreId"] == line["scoreId"], f"{pid}: b logged another scoreId")
    scored_a = len(logged_a.keys() & {l["paymentId"] for l in lines})
    c.log(f"ok   every acknowledged payment is in its region's logs (a's logs hold {scored_a} of the bench's payments: "
          f"{scored_a - len(acked_a)} more than it acknowledged, cut off by the kill)")

    # 3. The loss window: what b had folded of a's before a's restart.
    until("b's consumer group committing a's topic to its end", b_caught_up, GROUP_WAIT, lambda: (seen.get("offsets"), folding(ports_b, state)))
    shipped_before = set(seen["ids"])
    folded_before = len(acked_a.keys() & shipped_before)
    c.log(f"ok   before a's restart b had folded {folded_before} of the {len(acked_a)} payments a acknowledged "
          f"({len(acked_a) - folded_before} acknowledged but not yet shipped when a died: the replication loss window "
          f"until a's nodes come back)")

    # 4. A retry at b of every payment a acknowledged is b's duplicate with a's scoreId.
    client = c.KeepAliveClient(port_b, key)
    try:
        for pid, line in acked_a.items():
            status, body = client.post_json(SCORE, json.dumps(line["request"]).encode())
            answer = json.loads(body)
            c.check(status == 200 and answer.get("duplicate") is True and answer.get("scoreId") == line["scoreId"],
                    f"b: the retry of {pid} (a's scoreId {line['scoreId']}): {status} {body[:300]!r}")
    finally:
        client.close()
    c.log(f"ok   {len(acked_a)} retries at b of a's acknowledged payments: each a duplicate with a's scoreId")

    # 5. a restarted: it ships the rest; b folds all of it.
    for name, (_, argv) in sorted(a_nodes.items()):
        log = open(os.path.join(state, f"{name}-restart.log"), "wb")
        child_env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_CONTROL_PLANE", "VIGIL_MASTER_KEY")}
        restarted.append(subprocess.Popen(argv, env=child_env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        log.close()

    def ready(port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://{c.HOST}:{port}/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    for port in ports_a:
        until(f"a's restarted node on port {port} ready", lambda: ready(port), 30)
    until("a's restarted nodes shipping their logs' tails",
          lambda: all(metric_sum(port, "vigil_stream_lag_events") == 0 for port in ports_a), 30)
    until("b's consumer group committing a's topic to its end again", b_caught_up, GROUP_WAIT, lambda: (seen.get("offsets"), folding(ports_b, state)))
    missing = acked_a.keys() - seen["ids"]
    c.check(not missing, f"{len(missing)} payments a acknowledged never reached a's topic, e.g. {sorted(missing)[:3]}")
    folded = sum(metric_sum(port, "vigil_region_events_folded_total") for port in ports_b)
    c.check(folded >= len(acked_a), f"b folded {folded} events, fewer than the {len(acked_a)} a acknowledged")

    # The probe: the debtor with the most payments in a's logs and no request sent to b, one with a payment shipped
    # only after the restart if there is one.
    bodies = {l["paymentId"]: l["request"] for l in lines}
    at_b = {debtor_of(l["request"]) for l in lines if l["url"] == url_b}
    per_debtor: dict[str, list[str]] = {}
    for pid in logged_a.keys() & bodies.keys():  # not the first payment, which was not the bench's
        debtor = debtor_of(bodies[pid])
        if debtor not in at_b:
            per_debtor.setdefault(debtor, []).append(pid)
    c.check(per_debtor, "no debtor paid only at a")
    debtor, paid = max(per_debtor.items(), key=lambda item: (bool(set(item[1]) - shipped_before), len(item[1])))
    late = len(set(paid) - shipped_before)
    probe = dict(bodies[paid[0]], paymentId=c.new_payment_id("failover-probe"), uetr=str(uuid.uuid4()),
                 createdAt=c.rfc3339_now())
    answer = c.request(port_b, "POST", SCORE, body=probe, headers=c.score_headers(key), timeout=10)
    c.check(answer.status == 200 and answer.json().get("duplicate") is False, f"b: the probe: {answer.status} {answer.body[:300]!r}")
    names = [line.split("\t")[0] for line in c.run_cli(vigil, ["features", "list"]).stdout.decode().splitlines()]
    probe_record = logged(vigil, state, "b", env["VIGIL_CONTROL_PLANE"]).get(probe["paymentId"])
    c.check(probe_record is not None, "the probe is not in b's logs")
    count = dict(zip(names, probe_record["features"]))["debtor.count_7d"]
    c.check(count == len(paid), f"b's probe for a debtor paid only at a: debtor.count_7d {count}, a's logs hold {len(paid)}")
    c.log(f"ok   a restarted and shipped the rest: every payment a acknowledged is on a's topic, b folded {folded:.0f} "
          f"events, and b's probe for a debtor paid only at a counts its {len(paid)} payments there (debtor.count_7d; "
          f"{late} of them shipped only after the restart)")


if __name__ == "__main__":
    c.run_main("failover", __doc__, main, time_limit=170)
