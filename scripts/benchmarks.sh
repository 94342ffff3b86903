#!/usr/bin/env bash
# Runs every measurement behind BENCHMARKS.md's performance targets (issue 4) on a release build and keeps each
# program's own output in OUT (default: bench-results/). About 20 minutes; run it on an otherwise idle machine.
#
#     scripts/benchmarks.sh [OUT]
#
# 1. the machine's fdatasync floor (scripts/fsync_latency.py);
# 2. vigil-microbench on the bundled model, and on a 300-tree, depth-6 model trained here on simulated payments;
# 3. the closed-loop scaling curve, /health against scoring at 1, 4, 16, 64 and 256 connections (table and SVG);
# 4. open loop at 5,000 payments/s for 60 s, fsync durability;
# 5. the stall run: open loop at 5,000 payments/s for 5 minutes, fsync durability (max latency is the figure);
# 6. issue 11: one embedded node against `scripts/cluster up --nodes 2` (Redis, HAProxy) in one run: closed-loop
#    ratio, open loop at 1,000/s, Redis round trips, bytes and CPU per payment, time to ready after 500,000 payments,
#    Redis memory per key (scripts/bench_cluster.py; needs redis-server and haproxy, installed by scripts/cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-results}
mkdir -p "$out"

swift build -c release --product vigil
swift build -c release --product vigil-microbench
vigil=.build/release/vigil

python3 scripts/fsync_latency.py | tee "$out/fsync.txt"

.build/release/vigil-microbench | tee "$out/microbench-bundled.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$vigil" simulate --seed 11 --payments 300000 --days 30 --out "$work/sim" > /dev/null
"$vigil" train --history "$work/sim/history.csv" --labels "$work/sim/labels.csv" --rounds 300 --depth 6 \
    --early-stopping 0 --out "$work/model300.json" > "$work/train.log"
.build/release/vigil-microbench --model "$work/model300.json" | tee "$out/microbench-300x6.txt"

"$vigil" bench --spawn --sweep 1,4,16,64,256 --duration 10 --warmup 2 --svg "$out/scaling.svg" | tee "$out/scaling.md"
"$vigil" bench --spawn --rate 5000 --connections 64 --duration 60 --warmup 5 --population 400000 | tee "$out/open-5000-60s.txt"
"$vigil" bench --spawn --rate 5000 --connections 64 --duration 300 --warmup 5 --population 400000 | tee "$out/stall-5000-300s.txt"
python3 scripts/bench_cluster.py --vigil "$vigil" --out "$out/cluster" | tee "$out/cluster.md"
