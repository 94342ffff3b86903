#!/usr/bin/env python3
"""A model trained by `vigil train` loads in Python's xgboost and predicts what `vigil model predict` does.

Writes a small labelled feature CSV with missing values, trains a model on it with `vigil train`, loads the
model file with `xgboost.Booster`, predicts every row with it and with `vigil model predict`, and checks that
the two probabilities differ by at most 1e-6 on every row. Training again with `--threads 1` and `--threads 3`
writes the same bytes and prints the `training: N trees in S s CPU` line that scripts/bench_train.py reads;
`--threads 0` is refused.

    python3 Tests/blackbox/xgboost_roundtrip.py --vigil .build/debug/vigil

`check_model(vigil, model, rows_csv, features)` is the core, usable on a model trained any other way.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import check, fail, log, make_temp_dir, run_cli, run_main  # noqa: E402

TOLERANCE = 1e-6
FEATURES = ["amount_log10", "payee_age_days", "velocity_24h", "hour_sin", "cop_mismatch"]


def write_dataset(path: str, rows: int = 3000, seed: int = 7) -> None:
    """A feature CSV as `vigil train` reads it: paymentId, createdAt, features by name, label."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["paymentId", "createdAt", *FEATURES, "label"])
        for index in range(rows):
            created = start + dt.timedelta(minutes=index * 7 + rng.randrange(5))
            amount = rng.gauss(2.5, 0.8)
            payee_age = None if rng.random() < 0.3 else rng.expovariate(1 / 200)
            velocity = None if rng.random() < 0.1 else float(rng.randrange(0, 30))
            hour = math.sin(2 * math.pi * rng.random())
            mismatch = float(rng.random() < 0.15)
            z = 1.2 * (amount - 3) + (1.5 if payee_age is None else -payee_age / 150) + 1.5 * mismatch
            z += 0.05 * (velocity if velocity is not None else 10) - 1.5
            label = int(rng.random() < 1 / (1 + math.exp(-z)))
            cells = [amount, payee_age, velocity, hour, mismatch]
            writer.writerow([f"p-{index:06d}", created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             *["" if value is None else repr(float(value)) for value in cells], label])


def write_rows(dataset: str, rows_csv: str) -> None:
    """The feature columns of the dataset (no id, time or label), as `vigil model predict --input` reads them."""
    with open(dataset, newline="") as source, open(rows_csv, "w", newline="") as target:
        reader = csv.DictReader(source)
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(FEATURES)
        for row in reader:
            writer.writerow([row[name] for name in FEATURES])


def read_matrix(rows_csv: str, names: list[str]):
    import numpy as np

    with open(rows_csv, newline="") as handle:
        reader = csv.DictReader(handle)
        values = [[float(row[name]) if row[name] != "" else math.nan for name in names] for row in reader]
    return np.asarray(values, dtype=np.float32)


def check_model(vigil: str, model: str, rows_csv: str, timeout: float = 60.0) -> int:
    """Predicts `rows_csv` with xgboost and with `vigil model predict`; fails unless all agree to 1e-6."""
    import numpy as np
    import xgboost as xgb

    booster = xgb.Booster(model_file=model)
    names = booster.feature_names
    check(names, f"{model}: the model has no feature names")
    matrix = read_matrix(rows_csv, names)
    dmatrix = xgb.DMatrix(matrix, feature_names=names, missing=np.nan)
    expected = booster.predict(dmatrix)
    result = run_cli(vigil, ["model", "predict", "--model", model, "--input", rows_csv], timeout=timeout)
    lines = result.stdout.decode().split()
    check(len(lines) == len(expected),
          f"vigil model predict printed {len(lines)} probabilities for {len(expected)} rows")
    worst = 0.0
    for index, (line, want) in enumerate(zip(lines, expected)):
        got = float(line)
        difference = abs(got - float(want))
        worst = max(worst, difference)
        if not difference <= TOLERANCE:
            fail(f"row {index + 1}: vigil says {got!r}, xgboost {float(want)!r} (difference {difference:.3g})")
    log(f"{len(lines)} rows agree; largest difference {worst:.3g}")
    return len(lines)


def body(args) -> None:
    directory = make_temp_dir("vigil-xgb-roundtrip-")
    dataset = os.path.join(directory, "features.csv")
    rows_csv = os.path.join(directory, "rows.csv")
    model = os.path.join(directory, "model.json")
    write_dataset(dataset)
    write_rows(dataset, rows_csv)
    train = ["train", "--features", dataset, "--rounds", "40", "--depth", "4", "--learning-rate", "0.3",
             "--seed", "3", "--subsample", "0.8", "--colsample", "0.8", "--early-stopping", "10"]
    run_cli(args.vigil, [*train, "--out", model], timeout=90.0)
    check(os.path.isfile(model), f"vigil train wrote no model at {model}")
    with open(model, "rb") as handle:
        model_bytes = handle.read()
    for threads in ("1", "3"):
        other = os.path.join(directory, f"model-{threads}.json")
        cp = run_cli(args.vigil, [*train, "--out", other, "--threads", threads], timeout=90.0)
        with open(other, "rb") as handle:
            check(handle.read() == model_bytes, f"--threads {threads} trained another model than every core did")
        check(re.search(rf"^training: \d+ trees in [0-9.]+ s CPU, [0-9.]+ s \(threads: {threads}\)$",
                        cp.stderr.decode(), re.MULTILINE) is not None,
              f"--threads {threads}: no training line on stderr: {cp.stderr[-500:]!r}")
    refused = run_cli(args.vigil, [*train, "--out", os.path.join(directory, "none.json"), "--threads", "0"],
                      check_status=False)
    check(refused.returncode != 0 and b"--threads must be 1 or more" in refused.stderr,
          f"--threads 0 was not refused with a reason: {refused.returncode}, {refused.stderr[-500:]!r}")
    import json

    with open(model) as handle:
        document = json.load(handle)
    learner = document["learner"]
    check(learner["feature_names"] == FEATURES, f"feature_names are {learner['feature_names']}, expected {FEATURES}")
    check(learner["objective"]["name"] == "binary:logistic", "objective is not binary:logistic")
    check_model(args.vigil, model, rows_csv)


if __name__ == "__main__":
    run_main("xgboost_roundtrip", __doc__.splitlines()[0], body, time_limit=150.0)
