#!/usr/bin/env python3
"""Black-box test: two regions, active-active (docs/regions.md).

    python3 Tests/blackbox/regions.py --vigil .build/debug/vigil

Starts two `redis-server`s (region a's and region b's, free loopback ports), `vigil-kafka-mock` (librdkafka's mock
cluster, a test double of Kafka, standing for region a's Kafka) and one node per region:

    node a: --state redis-a --stream kafka://<the mock> --region a --peer-region b --peer-state redis-b
    node b: --state redis-b --region b --peer-region a --peer-state redis-a --peer-stream kafka://<the mock>

Both nodes have one master key and one set of tenants (b's data directory is a copy of a's, made before either scores).

1. Duplicates across regions: payments scored at a, retried at b, are b's duplicates with a's scoreId, and b logs
   only `duplicateAnswered` records for them.
2. Features across regions: a's shipper puts its event log on the topic `vigil.events` (its
   `vigil_stream_lag_events` reaches 0); b folds it (`vigil_region_events_folded_total`,
   `vigil_region_replication_lag_seconds` in its /metrics) and b's next payment of the same debtor sees a's payments
   (`debtor.count_24h`), while b's log holds no record of a's payments.
3. Data residency: `vigil tenant regions demo a` in b's control plane makes b answer 403 problem+json
   `urn:vigil:problem:wrong-region` without echoing the request. The same pin in a's control plane: a scores the
   tenant and ships its record to `vigil.events.resident`, not to `vigil.events`, and b neither folds nor skips
   anything (it never receives it). `--any` serves it again.
4. Peer down: region b's Redis killed, a still answers 200 and counts `vigil_region_peer_write_misses_total`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import common as c
from kafka_mock import Mock, consume
from shared_state import RedisServer, payment

SCORE = "/v1/payments/score"
TOPIC = "vigil.events"


def post(node: c.Server, key: str, body: dict) -> c.Response:
    return c.request(node.port, "POST", SCORE, body=body, headers=c.score_headers(key), timeout=5.0)


def metric(node: c.Server, name: str) -> float | None:
    text = c.request(node.port, "GET", "/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[1])
    return None


def until(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        c.check(time.monotonic() < deadline, f"{what} within {timeout:.0f} s")
        time.sleep(0.1)


def main(args) -> None:
    c.check(shutil.which("redis-server") is not None, "redis-server is not installed (scripts/test installs it)")
    mock_path = os.path.join(os.path.dirname(args.vigil), "vigil-kafka-mock")
    c.check(os.access(mock_path, os.X_OK), f"no vigil-kafka-mock beside {args.vigil}")
    tmp = c.make_temp_dir("vigil-regions-")
    stores = {}
    for region in ("a", "b"):
        directory = os.path.join(tmp, "redis-" + region)
        os.mkdir(directory)
        stores[region] = RedisServer(directory)
        stores[region].start()
    mock = Mock(mock_path, brokers=1)
    try:
        mock.bootstrap = mock.next_line()
        run(args, tmp, stores, mock)
    finally:
        c.check(mock.stop() == 0, "vigil-kafka-mock did not stop cleanly")
        for store in stores.values():
            store.kill()


def run(args, tmp: str, stores: dict, mock: Mock) -> None:
    data_a, data_b = os.path.join(tmp, "node-a"), os.path.join(tmp, "node-b")
    c.init_data_dir(args.vigil, data_a)
    shutil.copytree(data_a, data_b, ignore=shutil.ignore_patterns("events"))
    key = c.read_demo_key(data_a)
    node_a = c.Server(args.vigil, data_a, name="node-a", extra_args=[
        "--state", stores["a"].url, "--stream", "kafka://" + mock.bootstrap, "--region", "a", "--peer-region", "b",
        "--peer-state", stores["b"].url,
    ]).start()
    node_b = c.Server(args.vigil, data_b, name="node-b", extra_args=[
        "--state", stores["b"].url, "--region", "b", "--peer-region", "a", "--peer-state", stores["a"].url,
        "--peer-stream", "kafka://" + mock.bootstrap,
    ]).start()
    node_a.wait_ready()
    node_b.wait_ready()
    debtor = "31415926"

    # 1. Duplicates across regions.
    bodies = [payment(c.new_payment_id(f"rg-{i}"), debtor) for i in range(3)]
    firsts = []
    for body in bodies:
        resp = post(node_a, key, body)
        c.check(resp.status == 200 and resp.json().get("duplicate") is False, f"a: {resp.status} {resp.body[:300]!r}")
        firsts.append(resp.json())
    for body, first in zip(bodies, firsts):
        resp = post(node_b, key, body)
        c.check(resp.status == 200, f"b: retry of {body['paymentId']}: {resp.status} {resp.body[:300]!r}")
        c.check(resp.json().get("duplicate") is True and resp.json().get("scoreId") == first["scoreId"],
                f"b: a retry of a's payment is not a's duplicate: {resp.json()}")
    c.check(metric(node_a, "vigil_region_peer_write_misses_total") == 0, "a counted peer-write misses with b up")
    c.log("ok   3 payments scored at a, retried at b: b's duplicates with a's scoreIds; no peer-write misses")

    # 2. Features across regions: a's log, shipped to the topic, folded at b.
    until("a shipping its 3 records", lambda: metric(node_a, "vigil_stream_lag_events") == 0
          and metric(node_a, "vigil_stream_shipped_events_total") == 3, 30)
    until("b folding a's 3 payments", lambda: metric(node_b, "vigil_region_events_folded_total") == 3, 30)
    lag = metric(node_b, "vigil_region_replication_lag_seconds")
    c.check(lag is not None and lag >= 0, f"b's replication lag gauge: {lag!r}")
    next_b = payment(c.new_payment_id("rg-next-b"), debtor)
    resp = post(node_b, key, next_b)
    c.check(resp.status == 200 and resp.json().get("duplicate") is False, f"b: {resp.status} {resp.body[:300]!r}")
    c.log(f"ok   a's shipper put its log on the topic: b folded 3 events (lag gauge {lag:.3f} s) and scored the debtor's next payment")

    # 3. Data residency, set in b's control plane.
    c.run_cli(args.vigil, ["tenant", "regions", "demo", "a", "--data-dir", data_b])
    pinned = payment(c.new_payment_id("rg-pinned"), debtor)

    def refused() -> bool:
        # A body that is not JSON: 400 while the tenant is served, 403 once the pin applies (the region is checked
        # before the body is read), so polling scores nothing.
        return c.request(node_b.port, "POST", SCORE, body=b"{ not json", headers=c.score_headers(key)).status == 403

    until("b refusing the tenant pinned to a", refused, 10)
    resp = post(node_b, key, pinned)
    c.check(resp.media_type == "application/problem+json" and resp.json().get("type") == "urn:vigil:problem:wrong-region",
            f"b: {resp.body[:300]!r}")
    c.check(pinned["paymentId"].encode() not in resp.body and debtor.encode() not in resp.body,
            f"the problem echoes a submitted value: {resp.body!r}")
    c.check(post(node_a, key, pinned).status == 200, "a refused the tenant pinned to a")
    # The pin in a's control plane too: a keeps serving the tenant (a is in its set), and its shipper puts the
    # tenant's records on the region-local topic `vigil.events.resident`, which b never reads.
    # a scored `pinned` above before it knew the pin, so that record went to the shared topic: b skips it (its own
    # control plane has the pin). Wait for that, so the counts below are settled.
    until("b skipping a's record of the tenant pinned to a",
          lambda: (metric(node_b, "vigil_region_events_skipped_total") or 0) >= 1, 30)
    folded_before = metric(node_b, "vigil_region_events_folded_total")
    skipped_before = metric(node_b, "vigil_region_events_skipped_total")
    c.run_cli(args.vigil, ["tenant", "regions", "demo", "a", "--data-dir", data_a])
    time.sleep(2.5)  # a reloads its tenants every second
    kept = payment(c.new_payment_id("rg-kept-at-a"), debtor)
    c.check(post(node_a, key, kept).status == 200, "a refused the tenant pinned to a")
    until("a shipping the pinned tenant's record", lambda: metric(node_a, "vigil_stream_lag_events") == 0, 30)
    resident_keys = [k for k, _ in consume(mock.bootstrap, TOPIC + ".resident")]
    c.check(("demo/" + kept["paymentId"]).encode() in resident_keys,
            f"the pinned tenant's record is not on {TOPIC}.resident: {resident_keys!r}")
    shared_keys = [k for k, _ in consume(mock.bootstrap, TOPIC)]
    c.check(("demo/" + kept["paymentId"]).encode() not in shared_keys, f"the pinned tenant's record reached {TOPIC}")
    time.sleep(1.0)
    c.check(metric(node_b, "vigil_region_events_folded_total") == folded_before
            and metric(node_b, "vigil_region_events_skipped_total") == skipped_before,
            "b received the pinned tenant's record")
    c.log(f"ok   tenant pinned to a in a's control plane: its record went to {TOPIC}.resident, never to b")
    c.run_cli(args.vigil, ["tenant", "regions", "demo", "--any", "--data-dir", data_a])
    c.run_cli(args.vigil, ["tenant", "regions", "demo", "--any", "--data-dir", data_b])
    until("b serving the tenant again",
          lambda: c.request(node_b.port, "POST", SCORE, body=b"{ not json", headers=c.score_headers(key)).status == 400, 10)
    c.log("ok   tenant pinned to a: b answers 403 urn:vigil:problem:wrong-region (nothing echoed), a scores; --any serves it at b again")

    # 4. Region b's Redis down: a still answers, and counts the miss.
    stores["b"].kill()
    resp = post(node_a, key, payment(c.new_payment_id("rg-peer-down"), debtor))
    c.check(resp.status == 200, f"a with b's Redis down: {resp.status} {resp.body[:300]!r}")
    c.check((metric(node_a, "vigil_region_peer_write_misses_total") or 0) >= 1, "a did not count the peer-write miss")
    c.log("ok   b's Redis killed: a answers 200 and counts vigil_region_peer_write_misses_total")

    for node in (node_a, node_b):
        c.check(node.terminate() == 0, f"{node.name} did not stop cleanly on SIGTERM")
    names = [line.split("\t")[0] for line in c.run_cli(args.vigil, ["features", "list"]).stdout.decode().splitlines()]
    logged_b, answered_b, _, _ = c.export_log(args.vigil, data_b)
    ids_b = [r["paymentId"] for r in logged_b]
    c.check(all(b["paymentId"] not in ids_b for b in bodies), "a's payments reached b's event log")
    c.check(len(answered_b) == 3, f"b should log 3 duplicate-answered records, logged {len(answered_b)}")
    features = {r["paymentId"]: dict(zip(names, r["features"])) for r in logged_b}
    count = features[next_b["paymentId"]].get("debtor.count_24h")
    c.check(count == 3, f"b's debtor.count_24h after a's 3 payments is {count!r}, expected 3")
    c.log("ok   b's log: no record of a's payments, 3 duplicate-answered; its next payment saw a's 3 (debtor.count_24h)")


if __name__ == "__main__":
    c.run_main("regions", __doc__, main, time_limit=180)
