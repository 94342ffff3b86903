#!/usr/bin/env bash
# Response latency with and without a challenger in the shadow (issue 14 §3): one release `vigil serve` on embedded
# state, `vigil bench --rate 1000` (open loop) four times, alternating `vigil model deploy CHALLENGER --shadow` and
# `vigil model retire --shadow`; prints each run's latency percentiles and the shadow counters. Stops its server.
#
#     swift build -c release --product vigil && scripts/bench_shadow.sh [CHALLENGER.json]
#
# CHALLENGER defaults to issue 13's bundled model (git show a40102b:Sources/VigilEngine/Resources/model.json).
set -euo pipefail
cd "$(dirname "$0")/.."
vigil=.build/release/vigil
work=$(mktemp -d)
challenger=${1:-$work/challenger.json}
[ -n "${1:-}" ] || git show a40102b:Sources/VigilEngine/Resources/model.json > "$challenger"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$vigil" serve --data-dir "$work/data" --port "$port" > "$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
run() {
    "$vigil" bench --url "http://127.0.0.1:$port" --data-dir "$work/data" --rate 1000 --duration 10 --warmup 2 --seed "$1" --json \
        | python3 -c "import json, sys; d = json.load(sys.stdin); print('$2', d['ok'], 'ok of', d['sent'], d['latencyMs'])"
}
run 11 "no challenger:"
"$vigil" model deploy "$challenger" --shadow --data-dir "$work/data"; sleep 2
run 12 "challenger:   "
"$vigil" model retire --shadow --data-dir "$work/data"; sleep 2
run 13 "no challenger:"
"$vigil" model deploy "$challenger" --shadow --data-dir "$work/data"; sleep 2
run 14 "challenger:   "
curl -s "http://127.0.0.1:$port/metrics" | grep '^vigil_shadow'
