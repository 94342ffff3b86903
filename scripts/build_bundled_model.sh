#!/usr/bin/env bash
# Rebuilds the bundled model, Sources/VigilEngine/Resources/model.json, exactly: `vigil simulate` and `vigil train`
# with fixed seeds (training is deterministic), then evaluates it on the later, held-out simulated period and writes
# the report and plots to docs/evaluation/.
#
#     scripts/build_bundled_model.sh
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product vigil
vigil=.build/release/vigil
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1,000,000 payments over 50 days from 2026-01-01; train on the first 40, evaluate on the last 10.
"$vigil" simulate --seed 7 --payments 1000000 --days 50 --out "$work/sim"
"$vigil" train --history "$work/sim/history.csv" --labels "$work/sim/labels.csv" --until 2026-02-10 \
    --rounds 300 --depth 6 --learning-rate 0.1 --seed 7 --out Sources/VigilEngine/Resources/model.json
"$vigil" evaluate --model Sources/VigilEngine/Resources/model.json --history "$work/sim/history.csv" \
    --labels "$work/sim/labels.csv" --from 2026-02-10 --out docs/evaluation
