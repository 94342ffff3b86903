#!/usr/bin/env python3
"""Black-box test: `vigil train` stores a training profile, `vigil model monitor` and `vigil model compare` read the log.

    python3 Tests/blackbox/model_monitor_cli.py --vigil .build/debug/vigil

On the real binary:

1. `vigil train` on a small simulated history writes the model attribute vigil_training_profile: compact JSON with
   one distribution per model feature (proportions summing to 1, one per bin plus the missing-value bin) and the
   validation rows' scores in 20 bins of 50 points.
2. A server on that model scores 12 payments for demo (review from 500, block from 800); it is stopped with SIGTERM.
3. `vigil model monitor --model M --format json` over the day before to the day after counts the 12 payments, all
   scored by M, gives a score PSI and one PSI per model feature (highest first, each with its band), and per tenant
   the alerts the answers said (review + block), no reported fraud (so no recall). The text form names the PSI bands.
4. `vigil model compare --champion M --challenger BUNDLED` scores the logged features again: the champion's alerts and
   blocks at demo's thresholds are exactly the answers' review and block decisions (no rule fired); with no fraud
   reported, ROC-AUC and recall are null.
5. --from after --to, an unknown --format and a data directory without an event log exit 2 with a specific message.
"""
from __future__ import annotations

import datetime
import json
import os
import shutil

import common as c

SCORE = "/v1/payments/score"


def payment(pid: str, amount: str, iban: str) -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": amount, "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "404142", "accountNumber": "12345678"}},
        "creditor": {"account": {"iban": iban}},
    }


def main(args) -> None:
    vigil = args.vigil
    tmp = c.make_temp_dir("vigil-model-monitor-")

    # 1. Train: the profile is stored with the model.
    sim = os.path.join(tmp, "sim")
    c.run_cli(vigil, ["simulate", "--seed", "5", "--payments", "30000", "--out", sim], timeout=60)
    model = os.path.join(tmp, "model.json")
    c.run_cli(vigil, ["train", "--history", os.path.join(sim, "history.csv"), "--labels", os.path.join(sim, "labels.csv"),
                      "--out", model, "--rounds", "15", "--depth", "3", "--seed", "1"], timeout=240)
    with open(model, "rb") as fh:
        learner = json.load(fh)["learner"]
    profile = json.loads(learner["attributes"]["vigil_training_profile"])
    c.check(profile["v"] == 1 and profile["rows"] > 0, f"profile header: {str(profile)[:200]}")
    c.check([f["name"] for f in profile["features"]] == learner["feature_names"],
            "the profile should hold one distribution per model feature, in the model's order")
    for distribution in [profile["score"], *profile["features"]]:
        c.check(len(distribution["p"]) == len(distribution["edges"]) + 2 and abs(sum(distribution["p"]) - 1) < 1e-4,
                f"a distribution's proportions should be one per bin plus missing, summing to 1: {distribution}")
    c.check(profile["score"]["edges"] == list(range(50, 1000, 50)), f"score edges: {profile['score']['edges']}")
    c.log(f"ok   vigil train stored a profile of {len(profile['features'])} features over {profile['rows']} rows")

    # 2. Serve it and score.
    data = os.path.join(tmp, "data")
    c.init_data_dir(vigil, data)
    c.run_cli(vigil, ["tenant", "thresholds", "demo", "--review", "500", "--block", "800", "--data-dir", data])
    server = c.Server(vigil, data, extra_args=["--model", model], name="model-monitor").start()
    server.wait_ready()
    key = c.read_demo_key(data)
    answers = []
    for i, amount in enumerate(["10.00", "25.00", "90.00", "250.00", "700.00", "1500.00", "4000.00", "9000.00"] + ["120.00"] * 4):
        body = payment(c.new_payment_id(f"monitor-{i}"), amount, c.make_iban("GB", f"WEST12345698{765400 + i:06d}"[:18]))
        resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(resp.status == 200, f"payment {i}: {resp.status} {resp.body[:300]!r}")
        answers.append(resp.json())
    c.check(server.terminate() == 0, "the server did not stop cleanly")
    c.check(all(not a["rules"] for a in answers), f"a rule fired: {[a['rules'] for a in answers]}")
    version = answers[0]["modelVersion"]
    alerts = sum(a["decision"] != "allow" for a in answers)
    blocks = sum(a["decision"] == "block" for a in answers)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    span = ["--from", (today - datetime.timedelta(days=1)).isoformat(), "--to", (today + datetime.timedelta(days=2)).isoformat()]

    # 3. Monitor.
    cp = c.run_cli(vigil, ["model", "monitor", "--data-dir", data, *span, "--model", model, "--format", "json"])
    report = json.loads(cp.stdout)
    c.check(report["payments"] == 12 and report["modelVersion"] == version and report["versions"] == {version: 12},
            f"monitor counted: {cp.stdout[:400]!r}")
    c.check(report["score"]["payments"] == 12 and isinstance(report["score"]["psi"], float), f"score drift: {report['score']}")
    psis = [f["psi"] for f in report["features"]]
    c.check(len(psis) == len(profile["features"]) and psis == sorted(psis, reverse=True),
            f"one PSI per feature, highest first: {report['features'][:3]}")
    for drift in report["features"]:
        band = "stable" if drift["psi"] < 0.1 else "moderate" if drift["psi"] < 0.25 else "significant"
        c.check(drift["band"] == band, f"band of {drift}")
    c.check(report["tenants"] == [{"alertedFrauds": 0, "alerts": alerts, "payments": 12, "precision": 0.0 if alerts else None,
                                   "recall": None, "reportedFrauds": 0, "tenant": "demo"}], f"tenants: {report['tenants']}")
    text = c.run_cli(vigil, ["model", "monitor", "--data-dir", data, *span, "--model", model]).stdout.decode()
    c.check("score PSI: " in text and "below 0.1 stable, 0.1–0.25 moderate" in text, f"text: {text[:400]!r}")
    c.log(f"ok   model monitor: 12 payments, score PSI {report['score']['psi']:.3f}, {alerts} alerts")

    # 4. Compare.
    cp = c.run_cli(vigil, ["model", "compare", "--data-dir", data, *span, "--challenger", model, "--format", "json"])
    comparison = json.loads(cp.stdout)
    c.check(comparison["payments"] == 12 and comparison["frauds"] == 0, f"compare: {cp.stdout[:300]!r}")
    champion, challenger = comparison["models"]
    c.check(champion["role"] == "champion" and challenger["role"] == "challenger" and challenger["version"] == version,
            f"roles: {comparison['models']}")
    c.check(challenger["tenants"] == [{"alertedFrauds": 0, "alerts": alerts, "block": 800, "blocks": blocks, "payments": 12,
                                       "review": 500, "tenant": "demo"}], f"challenger volume: {challenger['tenants']}")
    c.check(challenger["rocAUC"] is None and challenger["recallAtFPR"] is None, f"no fraud, no ROC: {challenger}")
    c.log("ok   model compare: the served model scored again gives the answers' decisions")

    # 5. Bad input.
    bare = os.path.join(tmp, "bare")
    c.init_data_dir(vigil, bare)
    shutil.rmtree(os.path.join(bare, "events"), ignore_errors=True)
    for argv, directory, message in [
        (["monitor", "--from", "2026-02-02", "--to", "2026-02-01"], data, b"--from must be before --to"),
        (["monitor", *span, "--format", "xml"], data, b"--format must be text or json"),
        (["compare", *span, "--challenger", model], bare, b"no event log at"),
    ]:
        cp = c.run_cli(vigil, ["model", *argv, "--data-dir", directory], check_status=False)
        c.check(cp.returncode == 2 and message in cp.stderr and not cp.stdout.strip(),
                f"`vigil model {' '.join(argv)}` should exit 2 with {message!r}: {cp.returncode} {cp.stderr!r}")
    c.log("model_monitor_cli: all checks passed")


if __name__ == "__main__":
    c.run_main("model_monitor_cli", __doc__, main, time_limit=420)
