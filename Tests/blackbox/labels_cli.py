#!/usr/bin/env python3
"""Black-box test: run-time fraud reports, `vigil labels export`, `vigil training-set export` and training on it.

    python3 Tests/blackbox/labels_cli.py --vigil .build/debug/vigil

On the real binary, with a fresh data directory:

1. The demo tenant scores 600 payments created over the last 20 hours; every fifth goes to one of three mule
   accounts with a larger amount (the canaries: their IBANs and the payers' names must never leave the server).
2. `POST /v1/fraud-reports` reports the mule payments in batches: half of them, then (after a recorded cut-off
   instant) the other half. A batch with one bad report is refused with a pointer to it and records nothing.
3. The server stops with SIGTERM. The log holds one `label` record per report, valid against the event schema.
   `vigil labels export` has one row per report (source api, the creditor account as a 64-hex token), none for
   another tenant, and no canary; `--from` after every report gives none.
4. `vigil training-set export` over the period has one row per scored payment with the features as logged; all mule
   payments are 1 with no cut-off, and only the first half with `--label-cutoff` at the recorded instant
   (point in time). `vigil train --features` trains on the file and writes a model. `vigil features --data-dir`
   replays a history with the run-time reports on the consortium list, as the server saw them.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import os
import random
import time

import common as c

SCORE = "/v1/payments/score"
REPORTS = "/v1/fraud-reports"
PAYMENTS = 600
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schemas", "vigil-event.v1.schema.json")


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main(args) -> None:
    vigil = args.vigil
    data = c.make_temp_dir("vigil-labels-")
    c.init_data_dir(vigil, data)
    key = c.read_demo_key(data)
    rng = random.Random(14)
    mules = [c.random_gb_iban(rng) for _ in range(3)]
    canaries = [m.encode() for m in mules] + [b"Canary Payer"]

    server = c.Server(vigil, data, name="labels").start()
    server.wait_ready()
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now - datetime.timedelta(hours=20)
    client = c.KeepAliveClient(server.port, key)
    frauds: list[dict] = []
    scored_ids: list[str] = []
    for i in range(PAYMENTS):
        created = start + datetime.timedelta(seconds=i * 20 * 3600 / PAYMENTS)
        mule = i % 5 == 2
        body = {
            "paymentId": c.new_payment_id(f"labels-{i}"), "perspective": "sending", "type": "push", "scheme": "FPS",
            "channel": "mobile", "amount": f"{rng.randint(900, 2500) if mule else rng.randint(5, 120)}.00", "currency": "GBP",
            "createdAt": rfc3339(created),
            "debtor": {"name": "Canary Payer", "account": {"sortCode": "404142", "accountNumber": f"{10000000 + i % 40}"}},
            "creditor": {"account": {"iban": mules[i % 3] if mule else c.random_gb_iban(rng)}},
        }
        status, answer = client.post_json(SCORE, json.dumps(body).encode())
        c.check(status == 200, f"payment {i}: {status} {answer[:300]!r}")
        scored_ids.append(body["paymentId"])
        if mule:
            frauds.append({
                "paymentId": body["paymentId"], "reportedAt": rfc3339(created + datetime.timedelta(minutes=30)), "fraudType": "app_scam",
                "amountLost": {"amount": body["amount"], "currency": "GBP"}, "reportingSide": "sending",
                "creditorAccount": {"iban": body["creditor"]["account"]["iban"]},
            })
    client.close()
    c.log(f"ok   {PAYMENTS} payments scored, {len(frauds)} to mule accounts")

    headers = c.score_headers(key)
    bad = [dict(frauds[0]), {**frauds[1], "reportedAt": "last tuesday"}]
    resp = c.request(server.port, "POST", REPORTS, body={"reports": bad}, headers=headers)
    c.check(resp.status == 400 and resp.media_type == "application/problem+json", f"a bad batch: {resp.status} {resp.body[:300]!r}")
    pointers = [e["pointer"] for e in resp.json().get("errors", [])]
    c.check(pointers == ["/reports/1/reportedAt"], f"a bad batch should point at its bad report: {pointers}")
    c.check(b"last tuesday" not in resp.body, "the problem echoes a submitted value")

    half = len(frauds) // 2
    first, second = frauds[:half], frauds[half:]
    for batch in (first[: half // 2], first[half // 2:]):
        resp = c.request(server.port, "POST", REPORTS, body={"reports": batch}, headers=headers)
        c.check(resp.status == 200 and resp.json() == {"recorded": len(batch)}, f"first reports: {resp.status} {resp.body[:300]!r}")
    time.sleep(1.2)
    cutoff = rfc3339(datetime.datetime.now(datetime.timezone.utc))
    time.sleep(1.2)
    resp = c.request(server.port, "POST", REPORTS, body={"reports": second}, headers=headers)
    c.check(resp.status == 200 and resp.json() == {"recorded": len(second)}, f"second reports: {resp.status} {resp.body[:300]!r}")
    after = rfc3339(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1))
    c.check(server.terminate() == 0, "the server did not stop cleanly")
    c.log(f"ok   a bad batch refused with its pointer; {len(frauds)} reports recorded around a cut-off at {cutoff}")

    # 3. labels export
    cp = c.run_cli(vigil, ["labels", "export", "--data-dir", data, "--out", "-"])
    for canary in canaries:
        c.check(canary not in cp.stdout and canary not in cp.stderr, f"labels export leaks a canary {canary!r}")
    rows = list(csv.DictReader(io.StringIO(cp.stdout.decode())))
    c.check(len(rows) == len(frauds), f"labels export has {len(rows)} rows for {len(frauds)} reports")
    c.check({r["paymentId"] for r in rows} == {f["paymentId"] for f in frauds}, "labels export names other payments")
    for r in rows:
        c.check(r["tenant"] == "demo" and r["source"] == "api" and r["kind"] == "fraud-report" and r["fraudType"] == "app_scam",
                f"a labels export row: {r}")
        c.check(len(r["creditorAccount"]) == 64 and all(ch in "0123456789abcdef" for ch in r["creditorAccount"]),
                f"creditorAccount is not a token: {r['creditorAccount']!r}")
        c.check(c.is_rfc3339(r["knownAt"]) and c.is_rfc3339(r["at"]) and r["amountLost"] and r["currency"] == "GBP", f"a row: {r}")
    c.check(len({r["creditorAccount"] for r in rows}) == len(mules), "one token per mule account")
    none = c.run_cli(vigil, ["labels", "export", "--data-dir", data, "--tenant", "bank-z", "--out", "-"]).stdout.decode().splitlines()
    c.check(len(none) == 1, f"another tenant's export should be the header only: {none[:3]}")
    late = c.run_cli(vigil, ["labels", "export", "--data-dir", data, "--from", after, "--out", "-"]).stdout.decode().splitlines()
    c.check(len(late) == 1, f"--from after every report should give none: {late[:3]}")
    early = c.run_cli(vigil, ["labels", "export", "--data-dir", data, "--to", cutoff, "--out", "-"]).stdout.decode().splitlines()
    c.check(len(early) == 1 + len(first), f"--to at the cut-off should give the first {len(first)}: {len(early) - 1}")
    logged_labels = c.export_labels(vigil, data)
    c.check(len(logged_labels) == len(frauds) and all(l["source"] == "api" for l in logged_labels),
            f"the event log holds {len(logged_labels)} label records for {len(frauds)} reports")
    # As the stream carries them: valid against the event schema.
    from jsonschema import Draft202012Validator
    with open(SCHEMA) as fh:
        validator = Draft202012Validator(json.load(fh), format_checker=c.make_format_checker())
    for record in logged_labels:
        errors = list(validator.iter_errors({"schema": "vigil.event.v1", **record}))
        c.check(not errors, f"a label record does not match the event schema: {[e.message for e in errors[:3]]}")
    c.log(f"ok   labels export: {len(rows)} rows, tokens only, filtered by tenant and known-at")

    # 4. training-set export and training
    period = ["--from", rfc3339(start - datetime.timedelta(hours=1)), "--to", after]
    full = os.path.join(data, "training.csv")
    cp = c.run_cli(vigil, ["training-set", "export", "--data-dir", data, *period, "--out", full])
    with open(full, "rb") as fh:
        text = fh.read()
    for canary in canaries:
        c.check(canary not in text, f"the training set leaks a canary {canary!r}")
    table = list(csv.DictReader(io.StringIO(text.decode())))
    c.check([r["paymentId"] for r in table] == scored_ids, "the training set's rows are not the scored payments in order")
    fraud_ids = {f["paymentId"] for f in frauds}
    c.check(all((r["label"] == "1") == (r["paymentId"] in fraud_ids) for r in table), "labels without a cut-off")
    features = c.run_cli(vigil, ["features", "list"]).stdout.decode()
    c.check("creditor.reported_fraud_count_90d" in table[0] and "creditor.reported_fraud_count_90d" in features,
            "the training set lacks the feature columns")
    events, _, _ = c.export_events(vigil, data)
    logged = {e["paymentId"]: e["features"] for e in events}
    sample = table[7]
    names = [n for n in table[0].keys() if n not in ("paymentId", "createdAt", "perspective", "amount", "currency", "fraudType", "label")]
    for name, value in zip(names, logged[sample["paymentId"]]):
        cell = sample[name]
        c.check((cell == "" and value is None) or (value is not None and float(cell) == float(value)),
                f"feature {name} is {cell!r} in the set but {value!r} in the log")

    cut = os.path.join(data, "training-cut.csv")
    cp = c.run_cli(vigil, ["training-set", "export", "--data-dir", data, *period, "--label-cutoff", cutoff, "--out", cut])
    with open(cut) as fh:
        cut_rows = list(csv.DictReader(fh))
    labelled = {r["paymentId"] for r in cut_rows if r["label"] == "1"}
    c.check(labelled == {f["paymentId"] for f in first}, f"at the cut-off {len(labelled)} are labelled, expected the first {len(first)}")
    c.check(b"left out" in cp.stderr, f"training-set export should summarise: {cp.stderr!r}")
    c.log(f"ok   training-set export: {len(table)} rows; {len(fraud_ids)} frauds, {len(labelled)} known at the cut-off")

    # An offline replay with --data-dir sees the run-time reports as the server did: on the consortium list.
    # After every reportedAt (the newest reports say they came 30 minutes after their payment).
    later = rfc3339(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    history = os.path.join(data, "history.csv")
    with open(history, "w") as fh:
        fh.write("paymentId,perspective,type,scheme,amount,currency,createdAt,debtor.account.sortCode,debtor.account.accountNumber,creditor.account.iban\n")
        fh.write(f"replay-mule,sending,push,FPS,50.00,GBP,{later},404142,87654321,{mules[0]}\n")
        fh.write(f"replay-other,sending,push,FPS,50.00,GBP,{later},404142,87654321,{c.random_gb_iban(rng)}\n")
    no_labels = os.path.join(data, "no-labels.csv")
    with open(no_labels, "w") as fh:
        fh.write("paymentId,reportedAt,fraudType\n")
    replayed = os.path.join(data, "replayed.csv")
    c.run_cli(vigil, ["features", "--history", history, "--labels", no_labels, "--data-dir", data, "--tenant", "demo", "--out", replayed])
    with open(replayed) as fh:
        counts = {r["paymentId"]: r["creditor.reported_fraud_count_90d"] for r in csv.DictReader(fh)}
    reported_to_mule = sum(1 for f in frauds if f["creditorAccount"]["iban"] == mules[0])
    c.check(float(counts["replay-mule"]) == reported_to_mule and float(counts["replay-other"] or 0) == 0,
            f"the replay's consortium list: {counts}, expected {reported_to_mule} reports of the first mule")
    c.log(f"ok   features --data-dir replays the run-time reports: {reported_to_mule} on the first mule's account")

    model = os.path.join(data, "model.json")
    cp = c.run_cli(vigil, ["train", "--features", full, "--out", model, "--rounds", "30"], timeout=90)
    c.check(os.path.getsize(model) > 0 and b"wrote" in cp.stdout, f"train --features: {cp.stdout!r} {cp.stderr[-500:]!r}")
    c.log("ok   vigil train --features trains on the exported set")

    for argv, message in [
        (["training-set", "export", "--data-dir", data, "--from", "2026-02-02", "--to", "2026-02-01", "--out", cut], b"--from must come before --to"),
        (["training-set", "export", "--data-dir", data, "--from", "yesterday", "--to", "2026-02-01", "--out", cut], b"--from must be"),
        (["labels", "export", "--data-dir", c.make_temp_dir("vigil-labels-empty-"), "--out", "-"], b"no event log at"),
    ]:
        cp = c.run_cli(vigil, argv, check_status=False)
        c.check(cp.returncode != 0 and message in cp.stderr, f"`vigil {' '.join(argv)}`: {cp.returncode} {cp.stderr!r}")
    c.log("labels_cli: all checks passed")


if __name__ == "__main__":
    c.run_main("labels_cli", __doc__, main, time_limit=150)
