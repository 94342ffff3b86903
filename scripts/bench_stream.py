#!/usr/bin/env python3
"""The event stream's figures (issue 12 §5), in one run against librdkafka's mock cluster (`vigil-kafka-mock`, a test
double of Kafka: no broker installs on these machines).

    swift build -c release --product vigil --product vigil-kafka-mock
    nice python3 scripts/bench_stream.py --vigil .build/release/vigil [--rate 1000] [--duration 20] [--backlog 10]

1. End-to-end lag at --rate (open loop, `vigil bench`): for every message a confluent-kafka consumer reads from the
   topic, the consumer's clock at reading minus the event's `receivedAt` (the node's clock when the request arrived,
   under a millisecond before its `200`). p50 / p99 / max, and how many of the acknowledged payments arrived.
2. Shipping throughput: every broker is taken down (the mock's `down ID`), a closed-loop `vigil bench` scores for
   --backlog seconds (the log buffers), the brokers come back, and the figure is the backlog (`vigil_stream_lag_events`
   when they came back) over the seconds until the lag is 0. The closed loop's scoring rate with the brokers down is
   printed beside it.

It prints a Markdown report and the command that produced it. Everything is on loopback, in a temporary directory,
and stopped by PID at the end. Nothing here asserts a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "blackbox"))

import common as c  # noqa: E402
from kafka_mock import Mock  # noqa: E402

TOPIC = "vigil.events"


def metric(port: int, name: str) -> float:
    text = c.request(port, "GET", "/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise SystemExit(f"no {name} in /metrics")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


class TopicReader:
    """A confluent-kafka consumer on a thread, recording (key, lag in ms) for every message from the topic's end on."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Consumer

        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{os.getpid()}",
                                  "auto.offset.reset": "latest", "enable.auto.commit": False,
                                  "fetch.wait.max.ms": 5})
        self.consumer.subscribe([TOPIC])
        self.lags: list[float] = []
        self.keys: set[bytes] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        # Join the group and get an assignment before any load, so "latest" is the end before the run.
        deadline = time.monotonic() + 30
        while not self.consumer.assignment() and time.monotonic() < deadline:
            self.consumer.poll(0.1)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            message = self.consumer.poll(0.05)
            if message is None or message.error():
                continue
            now_ms = time.time() * 1000
            value = json.loads(message.value())
            self.lags.append(now_ms - value["receivedAt"]["ms"])
            self.keys.add(message.key())

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.consumer.close()


def bench(vigil: str, url: str, data: str, extra: list[str]) -> dict:
    out = subprocess.run([vigil, "bench", "--url", url, "--data-dir", data, "--json", *extra],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"vigil bench failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vigil", default=os.path.join(ROOT, ".build", "release", "vigil"))
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--backlog", type=float, default=10.0, help="seconds of closed-loop scoring with brokers down")
    args = parser.parse_args()
    mock_path = os.path.join(os.path.dirname(os.path.abspath(args.vigil)), "vigil-kafka-mock")
    command = "python3 scripts/bench_stream.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])

    mock = Mock(mock_path, 3)
    server = None
    reader = None
    try:
        mock.bootstrap = mock.next_line()
        work = tempfile.mkdtemp(prefix="vigil-bench-stream-")
        data = os.path.join(work, "data")
        c.init_data_dir(args.vigil, data)
        server = c.Server(args.vigil, data, extra_args=["--stream", "kafka://" + mock.bootstrap]).start()
        server.wait_ready()
        url = f"http://{c.HOST}:{server.port}"

        reader = TopicReader(mock.bootstrap)
        reader.start()
        c.log(f"end-to-end lag: open loop at {args.rate:.0f}/s for {args.duration:.0f} s")
        run = bench(args.vigil, url, data, ["--rate", str(args.rate), "--duration", str(args.duration), "--warmup", "0"])
        deadline = time.monotonic() + 30
        while metric(server.port, "vigil_stream_lag_events") > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        reader.close()
        lags = reader.lags
        reader = None

        c.log(f"shipping throughput: brokers down, closed loop for {args.backlog:.0f} s")
        for broker in (1, 2, 3):
            mock.command(f"down {broker}")
        closed = bench(args.vigil, url, data, ["--duration", str(args.backlog), "--warmup", "0"])
        backlog = metric(server.port, "vigil_stream_lag_events")
        for broker in (1, 2, 3):
            mock.command(f"up {broker}")
        started = time.monotonic()
        deadline = started + 600
        while metric(server.port, "vigil_stream_lag_events") > 0:
            if time.monotonic() > deadline:
                raise SystemExit("the backlog did not drain in 600 s")
            time.sleep(0.05)
        drained = time.monotonic() - started

        print(f"## Event stream (librdkafka's mock cluster, 3 brokers)\n\n`{command}`\n")
        print("| figure | value |\n|---|---|")
        print(f"| offered rate, open loop | {args.rate:.0f}/s for {args.duration:.0f} s "
              f"({run['ok']} answered 200, {sum(run['errors'].values()) if isinstance(run['errors'], dict) else run['errors']} errors) |")
        print(f"| messages read from the topic | {len(lags)} |")
        print(f"| end-to-end lag `receivedAt` → read from the topic, p50 | {percentile(lags, 0.50):.1f} ms |")
        print(f"| p99 | {percentile(lags, 0.99):.1f} ms |")
        print(f"| max | {max(lags) if lags else float('nan'):.1f} ms |")
        print(f"| backlog built with the brokers down ({args.backlog:.0f} s closed loop) | {backlog:.0f} events |")
        print(f"| scoring throughput meanwhile | {closed['achievedRate']:.0f}/s |")
        print(f"| backlog shipped in | {drained:.2f} s |")
        print(f"| shipping throughput | {backlog / drained:.0f} events/s |")
    finally:
        if reader is not None:
            reader.close()
        if server is not None:
            server.terminate()
        mock.stop()


if __name__ == "__main__":
    main()
