#!/usr/bin/env python3
"""Measure one scoring request's processing time on a release build (sequential, one keep-alive connection).

Starts `vigil serve` on a fresh data directory, warms up, then sends N distinct, realistic payments one at a time
and prints the server's own `processingMicros` and the client's round-trip time (which includes the fsync group
commit and the HTTP hop) as percentiles. Not a throughput test: `vigil bench` (issue 4) is.

    swift build -c release
    python3 scripts/processing_time.py --vigil .build/release/vigil --requests 5000
"""
import argparse
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "blackbox"))
import common as c  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vigil", default=".build/release/vigil")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--durability", default="fsync", choices=["fsync", "async"])
    args = parser.parse_args()
    rng = random.Random(11)
    data = c.make_temp_dir("vigil-ptime-")
    server = c.Server(os.path.abspath(args.vigil), data, extra_args=["--durability", args.durability]).start()
    try:
        server.wait_ready()
        client = c.KeepAliveClient(server.port, c.read_demo_key(data))
        micros, round_trips = [], []
        for i in range(args.warmup + args.requests):
            body = {
                "paymentId": f"pt-{i}", "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
                "amount": f"{rng.randint(1, 200000) / 100:.2f}", "currency": "GBP", "createdAt": c.rfc3339_now(),
                "debtor": {"name": "Payer", "account": {"sortCode": "112233", "accountNumber": f"{rng.randint(0, 2000):08d}"}},
                "creditor": {"account": {"iban": c.random_gb_iban(rng)}},
                "payee": {"confirmationOfPayee": rng.choice(["match", "close_match", "no_match"])},
                "device": {"id": f"dev-{rng.randint(0, 500)}", "ip": f"198.51.100.{rng.randint(1, 254)}"},
            }
            started = time.perf_counter()
            status, raw = client.post_json("/v1/payments/score", json.dumps(body).encode())
            elapsed = (time.perf_counter() - started) * 1e6
            if status != 200:
                raise SystemExit(f"request {i} failed with {status}: {raw[:200]!r}")
            if i >= args.warmup:
                micros.append(json.loads(raw)["processingMicros"])
                round_trips.append(elapsed)
        print(f"command: python3 scripts/processing_time.py --vigil {args.vigil} --requests {args.requests} "
              f"--durability {args.durability}")
        for name, values in (("processingMicros (server)", micros), ("round trip incl. fsync (client, µs)", round_trips)):
            print(f"{name}: n={len(values)} mean={statistics.mean(values):.0f} p50={percentile(values, 50):.0f} "
                  f"p90={percentile(values, 90):.0f} p99={percentile(values, 99):.0f} max={max(values):.0f}")
    finally:
        server.terminate()
        c._cleanup_temp_dirs()


if __name__ == "__main__":
    main()
