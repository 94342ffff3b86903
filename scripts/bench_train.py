#!/usr/bin/env python3
"""Time Vigil's trainer against XGBoost `hist` on one thread, same features, same trees: CPU seconds and their ratio.

    python3 scripts/bench_train.py --vigil .build/release/vigil --features features.csv \\
        [--depth 6 --rounds 300 --learning-rate 0.1 --lambda 1 --min-child-weight 1 --threads 1]

The CSV is a `vigil features` file. As `vigil train` does, rows whose createdAt falls in the last 20% of the time
span are held out. `vigil train --threads N` prints the CPU seconds of training alone (binning, trees and the
per-round validation log-loss; not reading the CSV, calibrating or writing the model); XGBoost's `xgb.train` is timed
with `time.process_time()` on DMatrix objects built beforehand, with `nthread=N`, `tree_method=hist`, the same depth,
rounds, learning rate, lambda and min_child_weight, `max_bin` equal to Vigil's (256), no sampling, and the
held-out rows as an evaluation set (log-loss every round, as Vigil computes). The script prints both CPU times, the
ratio (target: at most 1.2), both held-out ROC-AUCs and the commands. It is a benchmark to run by hand on a release
build, not a test.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

from compare_xgboost import arguments, roc_auc, time_split

VIGIL_MAX_BINS = 256
TRAINING_LINE = re.compile(r"^training: (\d+) trees in ([0-9.]+) s CPU, ([0-9.]+) s", re.MULTILINE)


def main() -> int:
    args = arguments(__doc__.splitlines()[0], "path to a release-built vigil executable", 1, "threads for both trainers")

    import numpy as np
    import xgboost as xgb

    names, values, labels, train, held_out = time_split(args.features)

    with tempfile.TemporaryDirectory(prefix="vigil-bench-train-") as directory:
        model = os.path.join(directory, "vigil.json")
        rows = os.path.join(directory, "held_out.csv")
        vigil_train = [args.vigil, "train", "--features", args.features, "--out", model,
                       "--rounds", str(args.rounds), "--depth", str(args.depth),
                       "--learning-rate", repr(args.learning_rate), "--lambda", repr(args.lambda_),
                       "--min-child-weight", repr(args.min_child_weight), "--subsample", "1", "--colsample", "1",
                       "--early-stopping", "0", "--threads", str(args.threads)]
        result = subprocess.run(vigil_train, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if result.returncode != 0:
            sys.exit(f"vigil train failed ({result.returncode}):\n{result.stderr.decode()[-2000:]}")
        timing = TRAINING_LINE.search(result.stderr.decode())
        if timing is None:
            sys.exit("vigil train printed no `training: N trees in S s CPU` line; is it an older build?")
        vigil_cpu, vigil_wall = float(timing.group(2)), float(timing.group(3))
        with open(rows, "w") as handle:
            handle.write(",".join(names) + "\n")
            for row in values[held_out]:
                handle.write(",".join("" if np.isnan(value) else repr(float(value)) for value in row) + "\n")
        predict = [args.vigil, "model", "predict", "--model", model, "--input", rows]
        result = subprocess.run(predict, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if result.returncode != 0:
            sys.exit(f"vigil model predict failed ({result.returncode}):\n{result.stderr.decode()[-2000:]}")
        vigil_scores = np.asarray([float(line) for line in result.stdout.decode().split()])

    parameters = {
        "objective": "binary:logistic", "tree_method": "hist", "max_depth": args.depth, "eta": args.learning_rate,
        "lambda": args.lambda_, "min_child_weight": args.min_child_weight, "subsample": 1, "colsample_bytree": 1,
        "max_bin": VIGIL_MAX_BINS, "nthread": args.threads, "seed": 0, "eval_metric": "logloss",
    }
    train_matrix = xgb.DMatrix(values[train], label=labels[train], feature_names=names, missing=np.nan,
                               nthread=args.threads)
    held_out_matrix = xgb.DMatrix(values[held_out], label=labels[held_out], feature_names=names, missing=np.nan,
                                  nthread=args.threads)
    cpu, wall = time.process_time(), time.monotonic()
    booster = xgb.train(parameters, train_matrix, num_boost_round=args.rounds,
                        evals=[(held_out_matrix, "validation")], verbose_eval=False)
    xgboost_cpu, xgboost_wall = time.process_time() - cpu, time.monotonic() - wall
    xgboost_scores = booster.predict(held_out_matrix).astype(np.float64)

    vigil_auc = roc_auc(vigil_scores, labels[held_out])
    xgboost_auc = roc_auc(xgboost_scores, labels[held_out])
    ratio = vigil_cpu / xgboost_cpu
    print(f"vigil   training {vigil_cpu:.2f} s CPU ({vigil_wall:.1f} s wall), held-out ROC-AUC {vigil_auc:.5f}")
    print(f"xgboost training {xgboost_cpu:.2f} s CPU ({xgboost_wall:.1f} s wall), held-out ROC-AUC {xgboost_auc:.5f}"
          f" (xgboost {xgb.__version__})")
    print(f"ratio (vigil / xgboost CPU) {ratio:.2f} (target at most 1.2); "
          f"ROC-AUC difference (vigil - xgboost) {vigil_auc - xgboost_auc:+.5f}")
    print("vigil:   " + shlex.join(vigil_train))
    print("xgboost: xgb.train(" + repr(parameters) + f", num_boost_round={args.rounds}, evals=[held out])")
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
