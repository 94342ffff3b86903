#!/usr/bin/env python3
"""Two regions' figures (issue 12 §5): cross-region replication lag at 1,000/s, and the failover gap of a kill -9 of
region a's nodes under 1,000/s. In one run on `scripts/cluster up --regions 2 --nodes 2` (its own TMPDIR): per
region a Redis, a `vigil-kafka-mock` (librdkafka's mock cluster, a test double standing for the region's Kafka), two
nodes and an HAProxy.

    swift build -c release --product vigil --product vigil-kafka-mock
    nice python3 scripts/bench_regions.py --vigil .build/release/vigil [--rate 1000] [--duration 20]

1. Replication lag: one payment at a, folded by b (b's consumer group settled); then `vigil bench --url A --rate R
   --duration D` (open loop) while a sampler, a process of its own beside the bench, reads every 100 ms b's nodes'
   `vigil_region_replication_lag_seconds` (now minus the `receivedAt` of the newest event the node folded) and a's
   nodes' `vigil_stream_lag_events` (logged, not yet shipped). A sample's lag is the larger of b's two nodes (each
   folds its own partitions; the region is as late as its later node). p50 / p99 / max of the samples taken while
   the load ran; then how long b took, after the load stopped, to fold every event a scored.
   Why a gauge: b does not log what it folds (docs/regions.md), so no per-event fold time can be read from outside;
   the gauge is b's own per-event figure for its newest fold, and between two folds it grows, so a sample is at most
   the 100 ms sampling interval late. It includes the shipping (a's log to a's topic) and the fold.
2. Failover gap: `vigil bench --url A,B --rate R --duration F`; --kill-after seconds in, a shell beside the bench
   `kill -9`s both of a's nodes; the figure is the bench's `longestGapMs` (the longest stretch without a 2xx answer,
   10 ms bins), with its failovers and errors. A's HAProxy decides how fast the clients see a 503: it retries a
   refused connection (`retries`, one second apart) until its health checks mark the nodes down.

A lag near 45 s is not Vigil's: one of b's nodes joined its consumer group late, and librdkafka 2.0.2's mock ends
that rebalance only at the session timeout (docs/regions.md, "Not built yet"); run it again.

It prints a Markdown report and the command. Everything is stopped by PID at the end. Nothing here asserts a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "blackbox"))

import common as c  # noqa: E402
from failover import free_port, node_processes, read_env, stream  # noqa: E402
from shared_state import payment  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "cluster")
SCORE = "/v1/payments/score"

# The sampler, a python3 of its own (this machine was seen holding a Python parent's sleeps while a busy child ran).
SAMPLER = r"""
import json, sys, time, urllib.request
import os
b_ports, a_ports, stop = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
def read(port, name):
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
    except OSError:
        return None
    values = [float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.split("{", 1)[0].split(" ", 1)[0] == name]
    return sum(values) if values else None
while not os.path.exists(stop):
    t = time.monotonic()
    print(json.dumps({"t": t, "lag": [read(p, "vigil_region_replication_lag_seconds") for p in b_ports],
                      "unshipped": [read(p, "vigil_stream_lag_events") for p in a_ports],
                      "scored": sum(read(p, "vigil_decisions_total") or 0 for p in a_ports)}), flush=True)
    time.sleep(max(0.0, 0.1 - (time.monotonic() - t)))
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def metric_sum(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://{c.HOST}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.split("{", 1)[0].split(" ", 1)[0] == name)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def wait(what: str, condition, timeout: float) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"bench_regions: {what} did not happen within {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - start


def run(args, state: str) -> dict:
    env = read_env(os.path.join(state, "env"))
    url_a, url_b = env["VIGIL_CLUSTER_URL"], env["VIGIL_CLUSTER_URL_B"]
    ports_a = [int(p) for p in env["VIGIL_CLUSTER_NODE_PORTS"].split()]
    ports_b = [int(p) for p in env["VIGIL_CLUSTER_NODE_PORTS_B"].split()]
    with open(env["VIGIL_CLUSTER_KEY_FILE"]) as f:
        key = f.read().strip()
    figures: dict = {}

    # b's consumer group settles on a's topic before the load (see Tests/blackbox/failover.py, step 0).
    first = c.request(int(url_a.rsplit(":", 1)[1]), "POST", SCORE, body=payment(c.new_payment_id("regions-first"), "27182818"),
                      headers=c.score_headers(key), timeout=10)
    if first.status != 200:
        raise SystemExit(f"bench_regions: the first payment at a answered {first.status}")
    bootstrap_a = env["VIGIL_CLUSTER_KAFKA"]
    wait("b folding a's first payment", lambda: (lambda seen: seen[0] and bool(seen[1]))(stream(bootstrap_a)), 120)

    # 1. Replication lag under load at a.
    log(f"replication lag: {args.rate:.0f}/s at a for {args.duration:.0f} s, sampling b every 100 ms")
    samples_file = os.path.join(state, "samples.jsonl")
    bench_file = os.path.join(state, "lag-bench.json")
    bench = (f"{shlex.quote(args.vigil)} bench --url {url_a} --tenant-key {key} --rate {args.rate} --duration {args.duration} "
             f"--warmup 0 --connections {args.connections} --population {args.population} --json > {bench_file}")
    stop = os.path.join(state, "sampler.stop")
    sampler = (f"python3 -c {shlex.quote(SAMPLER)} {shlex.quote(json.dumps(ports_b))} {shlex.quote(json.dumps(ports_a))} "
               f"{stop} > {samples_file}")
    subprocess.run(["sh", "-c", f"{sampler} & s=$!; {bench}; status=$?; touch {stop}; wait $s; exit $status"], check=True,
                   timeout=args.duration + 300)
    with open(bench_file) as f:
        lag_bench = json.load(f)
    scored_a = sum(metric_sum(p, "vigil_decisions_total") for p in ports_a)
    drained = wait("b folding every event a scored",
                   lambda: sum(metric_sum(p, "vigil_region_events_folded_total") for p in ports_b) >= scored_a, 300)
    with open(samples_file) as f:
        samples = [json.loads(line) for line in f]
    # While the load ran: from the first sample after a scored the bench's first payment (the bench builds its
    # payments first), each with a figure from both of b's nodes.
    begun = next((i for i, s in enumerate(samples) if s["scored"] > samples[0]["scored"]), len(samples))
    during = [s for s in samples[begun:] if all(v is not None for v in s["lag"])]
    lags = [max(s["lag"]) * 1000 for s in during]
    unshipped = [sum(v or 0 for v in s["unshipped"]) for s in during]
    gaps = [b["t"] - a["t"] for a, b in zip(samples, samples[1:])]
    figures["lag"] = {
        "ok": lag_bench["ok"], "errors": lag_bench["errors"], "achievedRate": lag_bench["achievedRate"],
        "samples": len(lags), "p50Ms": percentile(lags, 50), "p99Ms": percentile(lags, 99), "maxMs": max(lags, default=float("nan")),
        "maxSampleGapMs": max(gaps, default=0) * 1000, "maxUnshipped": max(unshipped, default=0),
        "drainSeconds": drained, "scoredAtA": scored_a,
    }
    log(f"replication lag: {figures['lag']}")

    # 2. The failover gap: a's nodes killed under load.
    log(f"failover: {args.rate:.0f}/s at a,b for {args.failover_duration:.0f} s, a's nodes killed {args.kill_after:.0f} s in")
    pids = " ".join(str(pid) for name, (pid, _) in node_processes(state).items() if name.startswith("a-"))
    gap_file = os.path.join(state, "failover-bench.json")
    script = (f"{shlex.quote(args.vigil)} bench --url {url_a},{url_b} --tenant-key {key} --rate {args.rate} "
              f"--duration {args.failover_duration} --warmup 0 --connections {args.connections} "
              f"--population {args.population} --json > {gap_file} & bench=$!; sleep {args.kill_after}; kill -9 {pids}; wait $bench")
    subprocess.run(["sh", "-c", script], check=True, timeout=args.failover_duration + 120)
    with open(gap_file) as f:
        gap = json.load(f)
    figures["failover"] = {key_: gap[key_] for key_ in ("longestGapMs", "failovers", "ok", "sent", "errors", "achievedRate")}
    log(f"failover: {figures['failover']}")
    return figures


def markdown(figures: dict, args, command: str) -> str:
    lag, gap = figures["lag"], figures["failover"]
    return "\n".join([
        f"Two regions on loopback (`scripts/cluster up --regions 2 --nodes 2`), `{os.path.basename(args.vigil)}` "
        f"at {args.vigil}, {os.cpu_count()} cores.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| replication lag at {args.rate:.0f}/s, p50 / p99 / max (b's `vigil_region_replication_lag_seconds`, "
        f"{lag['samples']} samples every 100 ms, the later of b's nodes) | {lag['p50Ms']:.0f} / {lag['p99Ms']:.0f} / "
        f"{lag['maxMs']:.0f} ms |",
        f"| load at a during it | {lag['ok']} ok at {lag['achievedRate']:.0f}/s, errors {lag['errors'] or 'none'} |",
        f"| a's unshipped events at most (`vigil_stream_lag_events`, both nodes) | {lag['maxUnshipped']:.0f} |",
        f"| b folded all {lag['scoredAtA']:.0f} of a's events after the load stopped within | {lag['drainSeconds']:.1f} s |",
        f"| longest interval between two samples | {lag['maxSampleGapMs']:.0f} ms |",
        f"| failover gap (`longestGapMs`) of a kill -9 of a's 2 nodes at {args.rate:.0f}/s | {gap['longestGapMs']:.0f} ms |",
        f"| during the failover run | {gap['ok']} ok of {gap['sent']}, {gap['failovers']} connection moves, "
        f"errors {gap['errors'] or 'none'} |",
        "",
        f"Command: `{command}`",
    ])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vigil", default=os.path.join(ROOT, ".build", "release", "vigil"))
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load for the replication lag")
    p.add_argument("--failover-duration", type=float, default=10.0, help="seconds of load for the failover gap")
    p.add_argument("--kill-after", type=float, default=4.0, help="seconds into the failover run to kill a's nodes")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--population", type=int, default=100_000)
    args = p.parse_args()
    args.vigil = os.path.abspath(args.vigil)
    command = " ".join(shlex.quote(a) for a in ["python3", "scripts/bench_regions.py", *sys.argv[1:]])
    tmp = tempfile.mkdtemp(prefix="vigil-bench-regions-")
    env = {**os.environ, "VIGIL": args.vigil, "TMPDIR": tmp}
    state = os.path.join(tmp, "vigil-cluster")
    up = subprocess.run([SCRIPT, "up", "--regions", "2", "--nodes", "2", "--port", str(free_port())], env=env,
                        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    try:
        if up.returncode != 0:
            raise SystemExit(f"bench_regions: scripts/cluster up --regions 2 failed: {up.stderr[-2000:]}")
        figures = run(args, state)
    finally:
        subprocess.run([SCRIPT, "down"], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
    print(markdown(figures, args, command))


if __name__ == "__main__":
    main()
