#!/usr/bin/env python3
"""Compare Vigil's trainer with Python XGBoost (`hist`) on the same feature CSV and the same time split.

    python3 scripts/compare_xgboost.py --vigil .build/release/vigil --features features.csv \
        [--depth 6 --rounds 300 --learning-rate 0.1 --lambda 1 --min-child-weight 1]

The CSV is a `vigil features` file (or any CSV with paymentId, createdAt and label columns; every other column
that is not a meta column is a feature). As `vigil train` does, rows whose createdAt
falls in the last 20% of the time span are held out (the validation set). Both trainers use the same depth,
rounds, learning rate, lambda and min_child_weight, no subsampling and no early stopping, and both models are
scored on the held-out rows; the script prints both ROC-AUCs, their difference and the command lines.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


META_COLUMNS = {"paymentId", "createdAt", "perspective", "amount", "currency", "fraudType", "label"}


def load(path: str):
    """Reads a `vigil features` file: every column that is not a meta column is a feature (as `vigil train` does)."""
    import numpy as np

    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if "paymentId" not in header or "createdAt" not in header or "label" not in header:
            sys.exit(f"{path}: the header needs paymentId, createdAt and label columns")
        created, label = header.index("createdAt"), header.index("label")
        feature_columns = [i for i, name in enumerate(header) if name not in META_COLUMNS]
        names = [header[i] for i in feature_columns]
        times, values, labels = [], [], []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                sys.exit(f"{path} line {line}: {len(row)} cells, the header has {len(header)}")
            times.append(parse_time(row[created]))
            values.append([float(row[i]) if row[i] != "" else math.nan for i in feature_columns])
            labels.append(float(row[label]))
    return names, np.asarray(times), np.asarray(values, dtype=np.float32), np.asarray(labels, dtype=np.float32)


def roc_auc(scores, labels) -> float:
    import numpy as np

    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end + 2) / 2
        start = end + 1
    positives = float(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    return (ranks[labels > 0.5].sum() - positives * (positives + 1) / 2) / (positives * negatives)


def arguments(description: str, vigil_help: str, threads_default: int, threads_help: str) -> argparse.Namespace:
    """The options this script and scripts/bench_train.py share: the executable, the features and the trees."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--vigil", required=True, help=vigil_help)
    parser.add_argument("--features", required=True, help="feature CSV: paymentId,createdAt,<features>,label")
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--lambda", dest="lambda_", type=float, default=1.0)
    parser.add_argument("--min-child-weight", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=threads_default, help=threads_help)
    return parser.parse_args()


def time_split(path: str):
    """The feature file read, and split by createdAt as `vigil train` splits it: the last 20% of the span held out.
    Returns (names, values, labels, train mask, held-out mask)."""
    names, times, values, labels = load(path)
    cutoff = times.min() + 0.8 * (times.max() - times.min())
    train = times < cutoff
    held_out = ~train
    print(f"{path}: {len(labels)} rows, {len(names)} features; "
          f"{int(train.sum())} train, {int(held_out.sum())} held out (createdAt in the last 20% of the span)")
    return names, values, labels, train, held_out


def main() -> int:
    args = arguments(__doc__.splitlines()[0], "path to the vigil executable", 2, "XGBoost nthread")

    import numpy as np
    import xgboost as xgb

    names, values, labels, train, held_out = time_split(args.features)
    held_out_labels = labels[held_out]
    if held_out_labels.sum() in (0, len(held_out_labels)) or labels[train].sum() in (0, int(train.sum())):
        sys.exit(f"{args.features}: the training rows or the held-out rows lack fraud or genuine labels "
                 "(a --label-cutoff before the held-out period leaves it unlabelled): no AUC can be compared")

    with tempfile.TemporaryDirectory(prefix="vigil-compare-") as directory:
        model = os.path.join(directory, "vigil.json")
        rows = os.path.join(directory, "held_out.csv")
        vigil_train = [args.vigil, "train", "--features", args.features, "--out", model,
                       "--rounds", str(args.rounds), "--depth", str(args.depth),
                       "--learning-rate", repr(args.learning_rate), "--lambda", repr(args.lambda_),
                       "--min-child-weight", repr(args.min_child_weight), "--subsample", "1", "--colsample", "1",
                       "--early-stopping", "0"]
        started = time.monotonic()
        result = subprocess.run(vigil_train, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        vigil_seconds = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(f"vigil train failed ({result.returncode}):\n{result.stderr.decode()[-2000:]}")
        with open(rows, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            for row in values[held_out]:
                writer.writerow(["" if math.isnan(value) else repr(float(value)) for value in row])
        predict = [args.vigil, "model", "predict", "--model", model, "--input", rows]
        result = subprocess.run(predict, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if result.returncode != 0:
            sys.exit(f"vigil model predict failed ({result.returncode}):\n{result.stderr.decode()[-2000:]}")
        vigil_scores = np.asarray([float(line) for line in result.stdout.decode().split()])

    parameters = {
        "objective": "binary:logistic", "tree_method": "hist", "max_depth": args.depth, "eta": args.learning_rate,
        "lambda": args.lambda_, "min_child_weight": args.min_child_weight, "subsample": 1, "colsample_bytree": 1,
        "max_bin": 256, "nthread": args.threads, "seed": 0,
    }
    started = time.monotonic()
    booster = xgb.train(parameters, xgb.DMatrix(values[train], label=labels[train], feature_names=names,
                                                missing=np.nan), num_boost_round=args.rounds)
    xgboost_seconds = time.monotonic() - started
    xgboost_scores = booster.predict(xgb.DMatrix(values[held_out], feature_names=names, missing=np.nan))

    vigil_auc = roc_auc(vigil_scores, labels[held_out])
    xgboost_auc = roc_auc(xgboost_scores.astype(np.float64), labels[held_out])
    print(f"vigil   held-out ROC-AUC {vigil_auc:.5f}  (train {vigil_seconds:.1f}s)")
    print(f"xgboost held-out ROC-AUC {xgboost_auc:.5f}  (train {xgboost_seconds:.1f}s, xgboost {xgb.__version__})")
    print(f"difference (vigil - xgboost) {vigil_auc - xgboost_auc:+.5f}")
    print("vigil:   " + shlex.join(vigil_train))
    print("xgboost: xgb.train(" + repr(parameters) + f", num_boost_round={args.rounds})")
    print("command: " + shlex.join([sys.executable, *sys.argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
