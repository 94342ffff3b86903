#!/usr/bin/env python3
"""Black-box tests of `vigil simulate`, `features`, `train` and `evaluate` on simulated and hand-written files.

- On a small simulated history: features (with `--files`, the daily-file features from the simulated daily files;
  a refused file stops it, named), a deterministic train (same seed, same bytes), evaluate with the JSON keys
  and SVG plots, and the trained model served by `vigil serve --model` (calibration included).
- Training guards: the default --label-maturity; a refusal, naming both periods' fraud counts and what to change and
  writing no model, when a period has too few frauds (a new user's short history whose newest days have no reported
  fraud; a features file whose validation period has none) or when the trained model predicts one probability for
  every payment; the calibration method on the summary line; a rounded duration; and evaluate's warning (stderr,
  evaluation.md/json) on a model that scores every payment alike.
- On edge-case files: empty, header only, bad rows (reported with line and reason, skipped), unsorted timestamps
  (replayed in time order), duplicate payment ids (skipped), other column names (--map) and epoch-second times.
- Every row rejected: features, train and evaluate exit non-zero with a summary instead of writing an empty result
  (a label file whose every row is rejected is warned about).
- A PaySim-like export (step, type, amount, nameOrig, nameDest, isFraud) read as it is: --map renames and constants,
  --label-column isFraud and --time-format hours-since:…, through features, train and evaluate.

    python3 Tests/blackbox/history_cli.py --vigil .build/debug/vigil
"""
import csv
import json
import os
import re
import xml.dom.minidom

import common as c

HEADER = ("paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.account.sortCode,"
          "debtor.account.accountNumber,creditor.account.iban,debtor.agent")


def line(pid: str, amount: str = "25.00", at: str = "2026-01-01T10:00:00Z") -> str:
    return f"{pid},sending,push,FPS,{amount},GBP,{at},404142,12345678,GB82WEST12345698765432,NWBKGB2L"


def write(path: str, lines: list[str]) -> str:
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + ("\n" if lines else ""))
    return path


def features(vigil: str, history: str, labels: str, out: str, extra=(), check_status=True):
    return c.run_cli(vigil, ["features", "--history", history, "--labels", labels, "--out", out, *extra],
                     check_status=check_status, timeout=120)


def simulated_pipeline(vigil: str, tmp: str) -> None:
    sim = os.path.join(tmp, "sim")
    c.run_cli(vigil, ["simulate", "--seed", "3", "--payments", "30000", "--out", sim], timeout=60)
    history, labels = os.path.join(sim, "history.csv"), os.path.join(sim, "labels.csv")
    out = os.path.join(tmp, "sim-features.csv")
    features(vigil, history, labels, out)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check(len(rows) == 30000, f"features wrote {len(rows)} rows for 30000 payments")
    c.check(sum(r["label"] == "1" for r in rows) > 20, "the simulated history should carry fraud labels")

    models = []
    for n in (1, 2):
        model = os.path.join(tmp, f"model{n}.json")
        c.run_cli(vigil, ["train", "--history", history, "--labels", labels, "--out", model, "--rounds", "40",
                          "--depth", "4", "--seed", "11", "--subsample", "0.8", "--colsample", "0.8"], timeout=180)
        with open(model, "rb") as fh:
            models.append(fh.read())
    c.check(models[0] == models[1], "two trainings with the same seed wrote different models")
    attributes = json.loads(models[0])["learner"]["attributes"]
    c.check("vigil_calibration" in attributes, "the trained model lacks its calibration attribute")

    report_dir = os.path.join(tmp, "evaluation")
    cp = c.run_cli(vigil, ["evaluate", "--model", os.path.join(tmp, "model1.json"), "--history", history, "--labels",
                           labels, "--from", "2026-01-10", "--out", report_dir, "--json"], timeout=180)
    report = json.loads(cp.stdout)
    for key in ("rocAuc", "prAuc", "recallAtFpr", "valueDetectionRate", "recallByFraudType"):
        c.check(key in report, f"evaluate --json lacks {key}")
    c.check(set(report["recallAtFpr"]) >= {"0.001", "0.01"}, f"recallAtFpr keys: {report['recallAtFpr']}")
    c.check(isinstance(report["rocAuc"], float) and 0.5 < report["rocAuc"] <= 1, f"rocAuc {report['rocAuc']}")
    listed = report["topFlagged"] + report["missedFrauds"]["largest"]
    c.check(listed and all(p["paymentId"] and p["reasons"] for p in listed), f"listed payments: {listed[:2]}")
    c.check(all(len(set(p["reasons"])) == len(p["reasons"]) for p in listed), "a reason code should be listed once")
    c.check({r["name"] for r in report["rules"]} >= {"mule-burst", "double-payment"}, f"rules: {report['rules']}")
    for name in ("roc.svg", "precision-recall.svg", "score-distribution.svg", "evaluation.md", "evaluation.json"):
        path = os.path.join(report_dir, name)
        c.check(os.path.isfile(path), f"evaluate did not write {name}")
        if name.endswith(".svg"):
            xml.dom.minidom.parse(path)
    c.log(f"simulated pipeline: 30000 payments, held-out ROC-AUC {report['rocAuc']:.4f}")

    daily_files(vigil, tmp, history, labels, rows)

    data = os.path.join(tmp, "served")
    server = c.Server(vigil, data, extra_args=["--model", os.path.join(tmp, "model1.json")], name="trained").start()
    server.wait_ready()
    body = {"paymentId": "served-1", "perspective": "sending", "type": "push", "scheme": "FPS", "amount": "10.00",
            "currency": "GBP", "createdAt": "2026-01-20T10:00:00Z",
            "debtor": {"account": {"sortCode": "404142", "accountNumber": "12345678"}},
            "creditor": {"account": {"iban": "GB82WEST12345698765432"}}}
    response = c.request(server.port, "POST", "/v1/payments/score", body, c.score_headers(c.read_demo_key(data)))
    c.check(response.status == 200, f"the trained model did not serve: {response.status} {response.body[:200]!r}")
    server.terminate()


DAILY_FILE_FEATURES = ("creditor.reported_fraud_count_90d", "creditor.institution_type", "debtor.institution_type",
                       "customer.count_24h", "customer.linked_accounts")


def is_set(cell: str) -> bool:
    return cell != "" and float(cell) != 0


def daily_files(vigil: str, tmp: str, history: str, labels: str, plain: list) -> None:
    """--files: the simulated institutions' daily files give the daily-file features, which are empty without them;
    train and evaluate take them too; a file the intake would refuse stops the command, naming the file."""
    files = os.path.join(tmp, "sim", "files")
    out = os.path.join(tmp, "sim-features-files.csv")
    cp = features(vigil, history, labels, out, extra=("--files", files))
    c.check(b"files: directory." in cp.stderr, f"--files should say which files it read: {cp.stderr[-300:]!r}")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check(len(rows) == len(plain), f"features --files wrote {len(rows)} rows, without {len(plain)}")
    for name in DAILY_FILE_FEATURES:
        c.check(not any(is_set(r[name]) for r in plain), f"{name} should be empty or 0 without --files")
        c.check(any(is_set(r[name]) for r in rows), f"{name} never set with --files")
    reported = sum(is_set(r["creditor.reported_fraud_count_90d"]) for r in rows)
    model = os.path.join(tmp, "model-files.json")
    c.run_cli(vigil, ["train", "--history", history, "--labels", labels, "--files", files, "--out", model,
                      "--rounds", "20", "--depth", "3", "--seed", "5"], timeout=180)
    cp = c.run_cli(vigil, ["evaluate", "--model", model, "--history", history, "--labels", labels, "--files", files,
                           "--from", "2026-01-10", "--out", os.path.join(tmp, "evaluation-files"), "--json"], timeout=180)
    c.check(0.5 < json.loads(cp.stdout)["rocAuc"] <= 1, "evaluate --files gave no usable report")

    broken = os.path.join(tmp, "broken-files", "bank-x")
    os.makedirs(broken)
    write(os.path.join(broken, "account-map.2026-01-01.csv"), ["customerId,account.iban", "c-1,NOT-AN-IBAN"])
    cp = features(vigil, history, labels, out, extra=("--files", os.path.dirname(broken)), check_status=False)
    c.check(cp.returncode != 0 and b"bank-x/account-map.2026-01-01.csv is refused" in cp.stderr,
            f"a refused daily file should stop features, naming it: {cp.stderr[-300:]!r}")
    c.check(b"NOT-AN-IBAN" not in cp.stderr, "the refusal should not echo the cell")
    c.log(f"daily files: {reported} of {len(rows)} payments paid a reported creditor; train and evaluate --files ran")


def training_guards(vigil: str, tmp: str) -> None:
    """Label maturity by default, no model without validation fraud, a readable duration, and evaluate's warnings."""
    sim = os.path.join(tmp, "sim")
    history, labels = os.path.join(sim, "history.csv"), os.path.join(sim, "labels.csv")
    model = os.path.join(tmp, "guard.json")

    # The simulated history spans 2026-01-01 to 2026-01-15: the default maturity leaves nothing before the split.
    cp = c.run_cli(vigil, ["train", "--history", history, "--labels", labels, "--until", "2026-01-15", "--out", model],
                   check_status=False, timeout=120)
    c.check(b"--label-maturity 30 (the default)" in cp.stderr, f"train should say which maturity it used: {cp.stderr!r}")
    c.check(cp.returncode != 0 and b"left out by --label-maturity 30" in cp.stderr,
            f"an empty training set should name the maturity: {cp.stderr!r}")
    cp = c.run_cli(vigil, ["train", "--history", history, "--labels", labels, "--label-maturity", "3", "--out", model],
                   check_status=False)
    c.check(cp.returncode != 0 and b"--label-maturity needs --until" in cp.stderr, f"maturity without --until: {cp.stderr!r}")
    cp = c.run_cli(vigil, ["train", "--history", history, "--labels", labels, "--until", "2026-01-15",
                           "--label-maturity", "2", "--validation-fraction", "0.4", "--rounds", "20", "--depth", "3",
                           "--out", model], timeout=180)
    c.check(b"(the default)" not in cp.stderr, "an explicit --label-maturity is not the default")
    c.check(re.search(rb"; calibration (platt|isotonic); \d+\.\d s; wrote ", cp.stdout) is not None,
            f"train should name the calibration and round its duration: {cp.stdout!r}")

    # A new user's case: a short history whose newest days have no reported fraud yet. Refused, naming both
    # periods' counts and what to change; no model is written.
    with open(labels, newline="") as fh:
        reader = csv.DictReader(fh)
        label_fields, label_rows = reader.fieldnames, list(reader)
    early = os.path.join(tmp, "early-labels.csv")
    with open(early, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=label_fields)
        writer.writeheader()
        writer.writerows(r for r in label_rows if r["reportedAt"] < "2026-01-09")
    refused = os.path.join(tmp, "refused.json")
    cp = c.run_cli(vigil, ["train", "--history", history, "--labels", early, "--rounds", "5", "--out", refused],
                   check_status=False, timeout=120)
    message = cp.stderr.decode()
    c.check(cp.returncode != 0 and re.search(r"too few frauds to train on: the training period has \d+ in \d+ payments "
                                             r"\(at least 20 needed\) and the validation period \d+ in \d+ "
                                             r"\(at least 10 needed\)", message) is not None,
            f"a history whose newest days have no reported fraud should be refused with both counts: {message!r}")
    for advice in ("an earlier --until", "--label-maturity", "a larger --validation-fraction"):
        c.check(advice in message, f"the refusal should suggest {advice}: {message!r}")
    c.check(not os.path.exists(refused), "a refused training wrote a model")

    # No fraud in the validation period (the last 20% of the time span): refused, not a model that scores all alike.
    with open(os.path.join(tmp, "sim-features.csv"), newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    times = sorted(r["createdAt"] for r in rows)
    split = times[int(len(times) * 0.75)]
    for r in rows:
        if r["createdAt"] >= split:
            r["label"], r["fraudType"] = "0", ""
    quiet = os.path.join(tmp, "quiet-validation.csv")
    with open(quiet, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    cp = c.run_cli(vigil, ["train", "--features", quiet, "--rounds", "5", "--out", refused], check_status=False,
                   timeout=120)
    c.check(cp.returncode != 0 and re.search(rb"the validation period 0 in \d+ \(at least 10 needed\)", cp.stderr)
            and b"out of the features file" in cp.stderr and b"--label-maturity" in cp.stderr,
            f"training without validation fraud should be refused: {cp.stderr!r}")
    c.check(not os.path.exists(refused), "a refused training wrote a model")

    # Features that never vary: the trees cannot split, every payment gets one probability; refused, nothing written.
    meta = {"paymentId", "createdAt", "perspective", "amount", "currency", "fraudType", "label"}
    constant = os.path.join(tmp, "constant-features.csv")
    with open(os.path.join(tmp, "sim-features.csv"), newline="") as source, open(constant, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: (v if k in meta else "0") for k, v in r.items()} for r in csv.DictReader(source))
    cp = c.run_cli(vigil, ["train", "--features", constant, "--rounds", "5", "--out", refused], check_status=False,
                   timeout=120)
    c.check(cp.returncode != 0 and b"the same probability" in cp.stderr,
            f"a model that predicts one probability for every payment should be refused: {cp.stderr!r}")
    c.check(not os.path.exists(refused), "a constant model was written")

    # A model calibrated on a validation period without fraud maps every payment to 0: evaluate warns.
    with open(os.path.join(tmp, "model1.json")) as fh:
        flat = json.load(fh)
    flat["learner"]["attributes"]["vigil_calibration"] = '{"method":"isotonic","x":[0.5],"y":[0]}'
    with open(model, "w") as fh:
        json.dump(flat, fh)
    out = os.path.join(tmp, "flat-evaluation")
    cp = c.run_cli(vigil, ["evaluate", "--model", model, "--history", history, "--labels", labels, "--from",
                           "2026-01-10", "--out", out], timeout=180)
    c.check(b"warning: the scores are nearly constant: 1 distinct score between 0 and 0" in cp.stderr,
            f"evaluate should warn about constant scores: {cp.stderr!r}")
    with open(os.path.join(out, "evaluation.json")) as fh:
        codes = [w["code"] for w in json.load(fh)["warnings"]]
    c.check(codes == ["nearlyConstantScores"], f"evaluation.json warnings: {codes}")
    with open(os.path.join(out, "evaluation.md")) as fh:
        c.check("**nearlyConstantScores**" in fh.read(), "evaluation.md should carry the warning")

    cp = c.run_cli(vigil, ["evaluate", "--help"])
    c.check(b"evaluation.md, evaluation.json" in cp.stdout and b"report.md" not in cp.stdout,
            f"evaluate --help should name the files it writes: {cp.stdout!r}")
    c.log("training guards: default label maturity, too few frauds and constant models refused, evaluate warns on flat scores")


def edge_cases(vigil: str, tmp: str) -> None:
    labels = write(os.path.join(tmp, "labels.csv"), ["paymentId,reportedAt,fraudType", "b,2026-01-05T00:00:00Z,mule"])
    out = os.path.join(tmp, "edge.csv")

    cp = features(vigil, write(os.path.join(tmp, "empty.csv"), []), labels, out, check_status=False)
    c.check(cp.returncode != 0 and b"empty" in cp.stderr, f"an empty history should be refused: {cp.stderr!r}")

    features(vigil, write(os.path.join(tmp, "header.csv"), [HEADER]), labels, out)
    with open(out) as fh:
        c.check(len(fh.read().splitlines()) == 1, "a header-only history should give a header-only feature file")
    cp = c.run_cli(vigil, ["train", "--history", os.path.join(tmp, "header.csv"), "--labels", labels, "--out",
                           os.path.join(tmp, "m.json")], check_status=False)
    c.check(cp.returncode != 0 and b"need payments" in cp.stderr, f"training on no rows should say why: {cp.stderr!r}")

    bad = write(os.path.join(tmp, "bad.csv"), [HEADER, line("a"), line("neg", amount="-3.00"), "short,row",
                                               line("c", at="last tuesday"), line("b", at="2026-01-01T11:00:00Z")])
    cp = features(vigil, bad, labels, out)
    c.check(b"5 row(s) read, 2 accepted, 3 rejected" in cp.stderr, f"bad rows summary: {cp.stderr!r}")
    for needle in (b"line 3: amount:", b"line 4: expected 11 cells, found 2", b"line 5: createdAt:"):
        c.check(needle in cp.stderr, f"bad rows should be reported with line and reason ({needle!r}): {cp.stderr!r}")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check([r["paymentId"] for r in rows] == ["a", "b"], f"accepted rows: {[r['paymentId'] for r in rows]}")
    c.check(rows[1]["label"] == "1" and rows[1]["fraudType"] == "mule", "the label of b should be carried")

    unsorted = write(os.path.join(tmp, "unsorted.csv"), [HEADER, line("late", at="2026-01-01T12:00:00Z"),
                                                         line("early", at="2026-01-01T09:00:00Z"),
                                                         line("early", at="2026-01-01T09:00:00Z")])
    cp = features(vigil, unsorted, labels, out)
    c.check(b"1 repeated paymentId(s) skipped" in cp.stderr and b"1 row(s) were out of time order" in cp.stderr,
            f"unsorted and duplicate rows should be counted: {cp.stderr!r}")
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check([r["paymentId"] for r in rows] == ["early", "late"], "rows should be replayed in time order")
    c.check(rows[1]["debtor.count_24h"] == "1.0", f"late should see early once: {rows[1]['debtor.count_24h']!r}")

    theirs = HEADER.replace("amount", "AMT").replace("createdAt", "booked")
    mapped = write(os.path.join(tmp, "mapped.csv"), [theirs, line("m", at="1767261600")])
    features(vigil, mapped, labels, out, extra=["--map", "amount=AMT,createdAt=booked", "--time-format", "epoch-seconds"])
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check(rows[0]["createdAt"] == "2026-01-01T10:00:00.000Z", f"epoch seconds converted: {rows[0]['createdAt']!r}")

    cp = c.run_cli(vigil, ["evaluate", "--model", os.path.join(tmp, "model1.json"), "--history",
                           os.path.join(tmp, "header.csv"), "--labels", labels, "--out", os.path.join(tmp, "ev0"),
                           "--json"], timeout=60)
    c.check(json.loads(cp.stdout)["rocAuc"] is None, "an empty evaluation should report rocAuc as null")

    cp = c.run_cli(vigil, ["simulate", "--seed", "1", "--payments", "0", "--out", os.path.join(tmp, "none")],
                   check_status=False)
    c.check(cp.returncode != 0 and b"payments" in cp.stderr, f"simulate --payments 0 should be refused: {cp.stderr!r}")
    c.log("edge cases: empty, header only, bad rows, unsorted, duplicates, --map, epoch seconds all handled")


def every_row_rejected(vigil: str, tmp: str) -> None:
    """A file whose every row is rejected is an error with a summary, not an empty feature file or model."""
    labels = os.path.join(tmp, "labels.csv")
    bad = write(os.path.join(tmp, "all-bad.csv"), [HEADER, line("a", amount="-1"), line("b", at="soon"), "short,row"])
    out = os.path.join(tmp, "all-bad-features.csv")
    if os.path.exists(out):
        os.remove(out)
    commands = {
        "features": ["features", "--history", bad, "--labels", labels, "--out", out],
        "train": ["train", "--history", bad, "--labels", labels, "--out", os.path.join(tmp, "all-bad.json")],
        "evaluate": ["evaluate", "--model", os.path.join(tmp, "model1.json"), "--history", bad, "--labels", labels,
                     "--out", os.path.join(tmp, "all-bad-evaluation")],
    }
    for verb, args in commands.items():
        cp = c.run_cli(vigil, args, check_status=False, timeout=60)
        c.check(cp.returncode != 0, f"{verb} on a file with every row rejected should fail: {cp.stderr!r}")
        c.check(b"3 row(s) read, 0 accepted, 3 rejected" in cp.stderr and b"every row of " in cp.stderr
                and b"was rejected (3 row(s): 1 \xc3\x97 " in cp.stderr, f"{verb} should summarise why: {cp.stderr!r}")
    c.check(not os.path.exists(out), "features should not write a file when every row is rejected")
    bad_labels = write(os.path.join(tmp, "all-bad-labels.csv"), ["paymentId,reportedAt,fraudType", "a,soon,mule"])
    cp = c.run_cli(vigil, ["features", "--history", os.path.join(tmp, "bad.csv"), "--labels", bad_labels, "--out", out],
                   check_status=False, timeout=60)
    c.check(cp.returncode == 0 and b"warning: every row of " in cp.stderr and b"no payment is labelled" in cp.stderr,
            f"a label file with every row rejected should be warned about: {cp.stderr!r}")
    c.log("every row rejected: features, train and evaluate fail with a summary")


PAYSIM_HEADER = ("step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,"
                 "isFraud,isFlaggedFraud")
PAYSIM_MAP = ["--map", "createdAt=step,paymentId=nameOrig,debtor.account.id=nameOrig,creditor.account.id=nameDest",
              "--map", "perspective=const:sending", "--map", "type=const:push,scheme=const:FPS,currency=const:GBP",
              "--map", "debtor.account.scheme=const:PAYSIM,creditor.account.scheme=const:PAYSIM",
              "--label-column", "isFraud", "--time-format", "hours-since:2026-01-01T00:00:00Z"]


def paysim_export(vigil: str, tmp: str) -> None:
    """A public payment simulator's output read as it is, without a hand-written converter."""
    rows = [PAYSIM_HEADER]
    frauds = 0
    for i in range(3000):
        step = 1 + i // 10  # ten payments an hour, 300 hours
        mule = f"M{i % 40:09d}"
        fraud = i % 17 == 3
        frauds += fraud
        kind = "TRANSFER" if fraud else "PAYMENT"
        amount = f"{(9000 + i) if fraud else (10 + i % 200)}.{i % 100:02d}"
        dest = f"C9{i % 7:08d}" if fraud else mule
        rows.append(f"{step},{kind},{amount},C{i:010d},1000.0,0.0,{dest},0.0,0.0,{int(fraud)},0")
    paysim = write(os.path.join(tmp, "paysim.csv"), rows)
    out = os.path.join(tmp, "paysim-features.csv")
    cp = c.run_cli(vigil, ["features", "--history", paysim, "--out", out, *PAYSIM_MAP], timeout=120)
    c.check(b"3000 row(s) read, 3000 accepted, 0 rejected" in cp.stderr, f"PaySim rows: {cp.stderr!r}")
    with open(out, newline="") as fh:
        written = list(csv.DictReader(fh))
    c.check(len(written) == 3000, f"features wrote {len(written)} rows for 3000 PaySim rows")
    c.check(sum(r["label"] == "1" for r in written) == frauds, "every isFraud row should carry its label")
    first = next(r for r in written if r["paymentId"] == "C0000000000")
    c.check(first["createdAt"] == "2026-01-01T01:00:00.000Z" and first["perspective"] == "sending",
            f"step 1 is an hour after the start, perspective the constant: {first}")
    fraud_row = next(r for r in written if r["paymentId"] == "C0000000003")
    c.check(fraud_row["fraudType"] == "other", f"a label from the history is of type other: {fraud_row}")

    model = os.path.join(tmp, "paysim-model.json")
    c.run_cli(vigil, ["train", "--history", paysim, "--out", model, "--rounds", "20", "--depth", "3", *PAYSIM_MAP],
              timeout=180)
    cp = c.run_cli(vigil, ["evaluate", "--model", model, "--history", paysim, "--from", "2026-01-10",
                           "--out", os.path.join(tmp, "paysim-evaluation"), "--json", *PAYSIM_MAP], timeout=180)
    report = json.loads(cp.stdout)
    c.check(isinstance(report["rocAuc"], (int, float)) and report["rocAuc"] > 0.5, f"PaySim held-out rocAuc {report['rocAuc']}")

    cp = c.run_cli(vigil, ["features", "--history", paysim, "--labels", os.path.join(tmp, "labels.csv"), "--out", out,
                           *PAYSIM_MAP], check_status=False)
    c.check(cp.returncode != 0 and b"either --labels or --label-column" in cp.stderr,
            f"--labels with --label-column should be refused: {cp.stderr!r}")
    c.log(f"PaySim-like export: 3000 rows ({frauds} fraud) mapped, labelled from isFraud, trained and evaluated")


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-history-")
    simulated_pipeline(args.vigil, tmp)
    training_guards(args.vigil, tmp)
    edge_cases(args.vigil, tmp)
    every_row_rejected(args.vigil, tmp)
    paysim_export(args.vigil, tmp)


if __name__ == "__main__":
    c.run_main("history_cli", __doc__, main, time_limit=500)
