#!/usr/bin/env python3
"""Black-box test of the event stream: `vigil serve --stream kafka://…` against `vigil-kafka-mock` (librdkafka's mock
cluster, a test double of Kafka), read back with a real Kafka client (confluent-kafka).

- Payments whose plaintext fields are canaries, and exact retries of some, are scored. Every acknowledged payment is
  on the topic under the key `tenant/paymentId`; no canary is in any key, value or header; every value is valid
  against docs/schemas/vigil-event.v1.schema.json (jsonschema, draft 2020-12).
- Outage: every broker taken down (`down ID` on the mock's stdin). Scoring goes on (200s), `vigil_stream_lag_events`
  grows to what was scored; with the brokers back the lag reaches 0 and every payment is on the topic.
- Injected errors: the mock refuses produce requests (`error 0 8 NOT_ENOUGH_REPLICAS` on its stdin); every payment
  still arrives.
- kill -9 while the shipper is sending (brokers down, a batch being retried): after a restart nothing is lost
  (resends are allowed: same key, same value).
- A bad `--stream` URL stops `vigil serve` (and `vigil report`) with a message that does not echo it.
- `vigil report` from the local log and from the topic (`--stream`) print the same bytes in md, csv, json and
  --monthly, though the topic may hold a resent record twice.

    python3 Tests/blackbox/stream_kafka.py --vigil .build/debug/vigil   # finds vigil-kafka-mock beside it
"""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402
from kafka_mock import Mock  # noqa: E402

TOPIC = "vigil.events"
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schemas", "vigil-event.v1.schema.json")
NAMES = ["Quillon Canarybright", "Hesper Wrenquist"]
IBAN = c.make_iban("GB", "CNRY" + "661122" + "27182818")
SORT_CODE, ACCOUNT = "525354", "77441188"
DEVICE = "canary-device-5510"
IP = "203.0.113.91"
REFERENCE = "Canary Stream Rent 42"
# The sort code is not a canary: it names a branch, and since issue 13 it is the party's readable institution code.
CANARIES = NAMES + [IBAN, ACCOUNT, SORT_CODE + ACCOUNT, DEVICE, IP, REFERENCE]


def payment(pid: str, index: int) -> dict:
    return {
        "paymentId": pid, "perspective": "sending" if index % 3 else "receiving", "type": "push", "scheme": "FPS",
        "channel": "mobile", "amount": f"{10 + index}.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"name": NAMES[index % 2], "account": {"sortCode": SORT_CODE, "accountNumber": ACCOUNT}},
        "creditor": {"name": NAMES[(index + 1) % 2], "account": {"iban": IBAN}},
        "device": {"id": DEVICE, "ip": IP}, "reference": REFERENCE,
    }


class Node:
    """A `vigil serve --stream` node and the payments it acknowledged."""

    def __init__(self, vigil: str, data: str, bootstrap: str) -> None:
        self.vigil, self.data, self.bootstrap = vigil, data, bootstrap
        self.server: c.Server | None = None
        self.key = ""
        self.acknowledged: list[str] = []
        self.bodies: dict[str, dict] = {}

    def start(self) -> None:
        self.server = c.Server(self.vigil, self.data, extra_args=["--stream", "kafka://" + self.bootstrap]).start()
        self.server.wait_ready()
        self.key = c.read_demo_key(self.data)

    def score(self, pid: str, index: int) -> None:
        body = self.bodies.setdefault(pid, payment(pid, index))
        response = c.request(self.server.port, "POST", "/v1/payments/score", body, c.score_headers(self.key))
        c.check(response.status == 200, f"scoring {pid} answered {response.status}: {response.body[:200]!r}")
        self.acknowledged.append(pid)

    def metric(self, name: str) -> float:
        text = c.request(self.server.port, "GET", "/metrics").body.decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        c.fail(f"no {name} in /metrics")

    def wait_metric(self, name: str, predicate, what: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while True:
            value = self.metric(name)
            if predicate(value):
                return value
            if time.monotonic() > deadline:
                c.fail(f"{name} is {value}, not {what}, after {timeout:.0f}s\n{self.server.output_tail()}")
            time.sleep(0.1)


def consume(bootstrap: str) -> list:
    """Every message of the topic, from the beginning of each partition to its high watermark."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "stream-kafka-test", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    try:
        partitions = consumer.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions
        ends = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=10)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(TOPIC, p, 0) for p in ends])
        messages = []
        deadline = time.monotonic() + 60
        while ends:
            c.check(time.monotonic() < deadline, f"the topic was not read to its end: {ends}")
            message = consumer.poll(0.2)
            if message is None or message.error():
                continue
            messages.append(message)
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        return messages
    finally:
        consumer.close()


def check_topic(bootstrap: str, node: Node, validator) -> list:
    messages = consume(bootstrap)
    keys = {m.key().decode() for m in messages}
    tenant = json.loads(messages[0].value())["tenant"]
    missing = [pid for pid in node.acknowledged if f"{tenant}/{pid}" not in keys]
    c.check(not missing, f"{len(missing)} acknowledged payments are not on the topic, e.g. {missing[:3]}")
    for message in messages:
        blob = (message.key() or b"") + (message.value() or b"")
        for name, value in message.headers() or []:
            blob += name.encode() + (value or b"")
        text = blob.decode(errors="replace")
        for canary in CANARIES:
            for form in {canary, canary.lower(), canary.upper()}:
                c.check(form not in text, f"plaintext {canary!r} is in message {message.offset()} of partition "
                                          f"{message.partition()}")
        value = json.loads(message.value())
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        c.check(not errors, f"message {message.offset()} is not valid against the schema: {errors[:1]}")
        c.check(message.key().decode() == f"{value['tenant']}/{value['paymentId']}", "key is not tenant/paymentId")
    return messages


def main(args) -> None:
    from jsonschema import Draft202012Validator

    with open(SCHEMA) as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    bad = c.run_cli(args.vigil, ["serve", "--port", "0", "--data-dir", c.make_temp_dir("vigil-stream-bad-"),
                                 "--stream", "http://secret-host:9092"], check_status=False)
    c.check(bad.returncode != 0 and b"stream must be kafka://" in bad.stderr and b"secret-host" not in bad.stderr,
            f"a bad --stream should stop the start with a clear message: {bad.returncode} {bad.stderr[-300:]!r}")
    bad = c.run_cli(args.vigil, ["report", "--from", "2026-01-01", "--to", "2026-01-02", "--stream", "kafka://h"],
                    check_status=False)
    c.check(bad.returncode == 2 and b"--stream must be kafka://" in bad.stderr, f"report --stream kafka://h: {bad.stderr!r}")
    c.log("a bad stream URL stops `vigil serve` and `vigil report` with a message that does not echo it")
    path = os.path.join(os.path.dirname(args.vigil), "vigil-kafka-mock")
    mock = Mock(path, brokers=3)
    try:
        bootstrap = mock.next_line()
        c.check(mock.command(f"topic {TOPIC} 3 1") == "ok", "topic refused")
        data = c.make_temp_dir("vigil-stream-kafka-")
        node = Node(args.vigil, data, bootstrap)
        node.start()

        for index in range(30):
            node.score(f"canary-{index}", index)
        for index in range(0, 30, 5):
            node.score(f"canary-{index}", index)  # exact retries: answered as duplicates, logged as such
        node.wait_metric("vigil_stream_lag_events", lambda v: v == 0, "0", 60)
        messages = check_topic(bootstrap, node, validator)
        c.check(len(messages) >= 36, f"expected 36 records on the topic, found {len(messages)}")
        c.log(f"36 records (30 payments, 6 duplicates) on the topic, keyed tenant/paymentId, valid against the "
              f"schema, no canary in keys, values or headers")

        for broker in (1, 2, 3):
            c.check(mock.command(f"down {broker}") == "ok", "down refused")
        for index in range(30, 230):
            node.score(f"outage-{index}", index)
        lag = node.wait_metric("vigil_stream_lag_events", lambda v: v >= 200, ">= 200", 30)
        node.wait_metric("vigil_stream_send_failures_total", lambda v: v >= 1, ">= 1", 60)
        c.log(f"all brokers down: 200 payments scored, lag {lag:.0f}, sends failing")
        for broker in (1, 2, 3):
            c.check(mock.command(f"up {broker}") == "ok", "up refused")
        node.wait_metric("vigil_stream_lag_events", lambda v: v == 0, "0", 120)
        check_topic(bootstrap, node, validator)
        c.log("brokers back: lag 0, every payment of the outage on the topic")

        for broker in (1, 2, 3):
            c.check(mock.command(f"down {broker}") == "ok", "down refused")
        for index in range(230, 330):
            node.score(f"killed-{index}", index)
        node.wait_metric("vigil_stream_send_failures_total", lambda v: v >= 2, ">= 2", 60)
        node.server.kill()
        for broker in (1, 2, 3):
            c.check(mock.command(f"up {broker}") == "ok", "up refused")
        node.start()
        node.wait_metric("vigil_stream_lag_events", lambda v: v == 0, "0", 120)
        messages = check_topic(bootstrap, node, validator)
        c.log(f"kill -9 while a batch was being retried, then a restart: nothing lost ({len(messages)} messages "
              f"for {len(set(node.acknowledged))} payments and 6 duplicates)")

        # Injected errors (the mock's rd_kafka_mock_push_request_errors): the brokers refuse the next 8 produce
        # requests with NOT_ENOUGH_REPLICAS, a retriable error; the idempotent producer retries, and every payment
        # still arrives.
        c.check(mock.command("error 0 8 NOT_ENOUGH_REPLICAS") == "ok", "error injection refused")
        for index in range(330, 360):
            node.score(f"errors-{index}", index)
        node.wait_metric("vigil_stream_lag_events", lambda v: v == 0, "0", 120)
        messages = check_topic(bootstrap, node, validator)
        c.log(f"8 produce requests refused by injected errors: every payment on the topic ({len(messages)} messages)")

        node.server.terminate()
        today = datetime.datetime.now(datetime.timezone.utc).date()
        span = ["--from", str(today - datetime.timedelta(days=1)), "--to", str(today + datetime.timedelta(days=1))]
        for extra in (["--format", "md"], ["--format", "csv"], ["--format", "json"], ["--monthly"]):
            local = c.run_cli(args.vigil, ["report", "--data-dir", data, *span, *extra]).stdout
            topic = c.run_cli(args.vigil, ["report", "--stream", "kafka://" + bootstrap, *span, *extra]).stdout
            c.check(local == topic, f"report {extra} differs between the log and the topic:\n{local}\n---\n{topic}")
            c.check(b"demo" in local or b"tenant" in local, f"report {extra} is empty:\n{local}")
        c.log("vigil report: the same md, csv, json and --monthly from the local log and from the topic")
    finally:
        status = mock.stop()
    c.check(status == 0, f"vigil-kafka-mock exited {status}")


if __name__ == "__main__":
    c.run_main("stream_kafka", __doc__, main, time_limit=420)
