#!/usr/bin/env python3
"""Black-box test of `vigil-kafka-mock`, the helper that hosts librdkafka's mock cluster (a test double of Kafka).

- It prints the bootstrap list, a real Kafka client (confluent-kafka, idempotent, acks=all) produces a keyed message
  to it and a consumer reads the same key and value back.
- Its stdin control: `error Produce 1 MSG_SIZE_TOO_LARGE` makes the next produce fail with that error; `down 2` and
  `up 2` answer `ok`; an unknown broker, an unknown error name and an unknown command answer `error: …`.
- SIGTERM stops it with exit status 0.

    python3 Tests/blackbox/kafka_mock.py --vigil .build/debug/vigil   # finds vigil-kafka-mock beside it
"""
import os
import queue
import signal
import subprocess
import threading

import common as c

TIMEOUT = 15.0


class Mock:
    """vigil-kafka-mock as a child process, stopped by PID."""

    def __init__(self, path: str, brokers: int) -> None:
        self.process = subprocess.Popen([path, "--brokers", str(brokers)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.bootstrap = ""

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        try:
            return self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            c.fail("vigil-kafka-mock printed nothing in time")

    def command(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.next_line()

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=TIMEOUT)
            c.fail("vigil-kafka-mock did not stop on SIGTERM")


def produce(bootstrap: str, topic: str, key: bytes, value: bytes):
    """Produces one message; returns the delivery report's error (None when written)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                         "message.timeout.ms": 10000})
    reports = []
    producer.produce(topic, key=key, value=value, on_delivery=lambda err, msg: reports.append(err))
    producer.flush(TIMEOUT)
    c.check(len(reports) == 1, f"expected one delivery report, got {len(reports)}")
    return reports[0]


def consume(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "kafka-mock-test",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    records = []
    try:
        for _ in range(100):  # bounded: 100 polls of at most 0.2 s
            message = consumer.poll(0.2)
            if message is None or message.error():
                if records:
                    break
                continue
            records.append((message.key(), message.value()))
    finally:
        consumer.close()
    return records


def main(args) -> None:
    path = os.path.join(os.path.dirname(args.vigil), "vigil-kafka-mock")
    c.check(os.access(path, os.X_OK), f"no vigil-kafka-mock beside {args.vigil}")
    mock = Mock(path, brokers=3)
    try:
        mock.bootstrap = mock.next_line()
        hosts = mock.bootstrap.split(",")
        c.check(len(hosts) == 3 and all(h.startswith("127.0.0.1:") for h in hosts),
                f"the first line should list 3 loopback brokers: {mock.bootstrap!r}")

        err = produce(mock.bootstrap, "vigil.scores", b"tenant-a:payment-1", b'{"score":412}')
        c.check(err is None, f"produce to the mock failed: {err}")
        records = consume(mock.bootstrap, "vigil.scores")
        c.check(records == [(b"tenant-a:payment-1", b'{"score":412}')], f"consumed {records!r}")
        c.log("produce and consume through the mock with confluent-kafka: one keyed message round-trips")

        c.check(mock.command("error Produce 1 MSG_SIZE_TOO_LARGE") == "ok", "error command refused")
        err = produce(mock.bootstrap, "vigil.scores", b"tenant-a:payment-2", b"{}")
        c.check(err is not None and err.name() == "MSG_SIZE_TOO_LARGE", f"injected error not reported: {err}")
        c.check(mock.command("down 2") == "ok", "down refused")
        c.check(mock.command("up 2") == "ok", "up refused")
        for bad in ("down 9", "error Produce 1 NO_SUCH_ERROR", "error Nope 1 MSG_SIZE_TOO_LARGE", "launch"):
            answer = mock.command(bad)
            c.check(answer.startswith("error: "), f"{bad!r} should be refused, got {answer!r}")
        c.log("control on stdin: injected produce error delivered; down/up ok; bad commands answered with error")
    finally:
        status = mock.stop()
    c.check(status == 0, f"vigil-kafka-mock should exit 0 on SIGTERM, got {status}")
    c.log("SIGTERM stops vigil-kafka-mock with status 0")


if __name__ == "__main__":
    c.run_main("kafka_mock", __doc__, main, time_limit=120)
