#!/usr/bin/env python3
"""Black-box test: `vigil report` counts, per tenant and UTC day, what a server was sent.

    python3 Tests/blackbox/report_cli.py --vigil .build/debug/vigil

On the real binary, with a fresh data directory:

1. Two tenants (demo and bank-b) with the rule `big` (amount >= 5000 -> review). demo scores 5 sending and 3
   receiving payments, two of them £6,000, and retries 2 of them exactly (duplicates); bank-b scores 4 sending
   payments, one £7,500, and retries one twice. The server is stopped with SIGTERM.
2. `vigil report` in md (the default), csv and json, over the day before to the day after, gives per tenant and day
   exactly the counts sent: scored, sending/receiving, allow/review/block (from the answers), duplicates, `big`
   firings, billable units (scored, non-duplicate) and p50/p99 of the answers' processingMicros (nearest rank).
   Which UTC day a payment counts on is taken from its logged receivedAt (a run across midnight splits them).
3. `--tenant bank-b` reports only bank-b; `--monthly` is the billing CSV with the same totals per tenant and month.
4. An empty range prints an empty report (exit 0); an unknown format, --from after --to, a malformed date, a
   directory `vigil serve` never set up and a data directory without an event log exit 2 with a specific message.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import os
import shutil

import common as c

SCORE = "/v1/payments/score"
RULES = 'rule "big": amount >= 5000 -> review\n'


def payment(pid: str, perspective: str, amount: str) -> dict:
    return {
        "paymentId": pid, "perspective": perspective, "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": amount, "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "404142", "accountNumber": "12345678"}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def nearest_rank(values: list[int], percent: int) -> int:
    ordered = sorted(values)
    return ordered[(percent * len(ordered) + 99) // 100 - 1]


def utc_day(received: dict) -> str:
    return datetime.datetime.fromtimestamp(received["ms"] / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")


def report(vigil: str, data: str, *args: str, check_status: bool = True):
    return c.run_cli(vigil, ["report", "--data-dir", data, *args], check_status=check_status)


def main(args) -> None:
    vigil = args.vigil
    data = c.make_temp_dir("vigil-report-")
    c.init_data_dir(vigil, data)
    keys = {"demo": c.read_demo_key(data), "bank-b": c.create_tenant(vigil, data, "bank-b")}
    rules = os.path.join(data, "big.rules")
    with open(rules, "w", encoding="utf-8") as fh:
        fh.write(RULES)
    for tenant in keys:
        c.run_cli(vigil, ["tenant", "rules", tenant, rules, "--data-dir", data])

    # 1. Score, and retry some exactly.
    plan = {
        "demo": [("sending", "10.00")] * 4 + [("sending", "6000.00")] + [("receiving", "20.00")] * 2 + [("receiving", "6000.00")],
        "bank-b": [("sending", "30.00")] * 3 + [("sending", "7500.00")],
    }
    retries = {"demo": [0, 7], "bank-b": [3, 3]}
    answers: dict[str, dict[str, dict]] = {tenant: {} for tenant in plan}
    perspective_of: dict[str, str] = {}
    big: set[str] = set()
    server = c.Server(vigil, data, name="report").start()
    server.wait_ready()
    for tenant, sends in plan.items():
        bodies = []
        for i, (perspective, amount) in enumerate(sends):
            body = payment(c.new_payment_id(f"report-{tenant}-{i}"), perspective, amount)
            resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(keys[tenant]))
            c.check(resp.status == 200, f"{tenant} payment {i}: {resp.status} {resp.body[:300]!r}")
            answer = resp.json()
            c.check(answer["duplicate"] is False, f"{tenant} payment {i} was a duplicate: {answer}")
            answers[tenant][body["paymentId"]] = answer
            perspective_of[body["paymentId"]] = perspective
            if float(amount) >= 5000:
                big.add(body["paymentId"])
                c.check([r["name"] for r in answer["rules"]] == ["big"], f"{tenant} payment {i}: `big` did not fire: {answer}")
            bodies.append(body)
        for index in retries[tenant]:
            resp = c.request(server.port, "POST", SCORE, body=bodies[index], headers=c.score_headers(keys[tenant]))
            c.check(resp.status == 200 and resp.json()["duplicate"] is True, f"{tenant} retry {index}: {resp.status} {resp.body[:300]!r}")
    c.check(server.terminate() == 0, "the server did not stop cleanly")
    c.log("ok   12 payments scored for two tenants, 4 retries answered as duplicates")

    # The day each record counts on is the server's: its receivedAt.
    scored, answered, _, _ = c.export_log(vigil, data)
    c.check(len(scored) == 12 and len(answered) == 4, f"the log holds {len(scored)} scored and {len(answered)} answered")
    for record in answered:
        original = answers[record["tenant"]].get(record["paymentId"])
        c.check(original is not None and record["originalScoreId"] == original["scoreId"],
                f"a duplicateAnswered record does not name its original: {record}")
    expected: dict[tuple[str, str], dict] = {}

    def row(tenant: str, day: str) -> dict:
        return expected.setdefault((tenant, day), {
            "scored": 0, "sending": 0, "receiving": 0, "allow": 0, "review": 0, "block": 0, "duplicates": 0,
            "big": 0, "micros": [],
        })

    for record in scored:
        tenant, pid = record["tenant"], record["paymentId"]
        answer = answers[tenant][pid]
        r = row(tenant, utc_day(record["receivedAt"]))
        r["scored"] += 1
        r[perspective_of[pid]] += 1
        r[answer["decision"]] += 1
        r["big"] += 1 if pid in big else 0
        r["micros"].append(answer["processingMicros"])
    for record in answered:
        row(record["tenant"], utc_day(record["receivedAt"]))["duplicates"] += 1
    days = sorted({day for _, day in expected})
    first = datetime.date.fromisoformat(days[0]) - datetime.timedelta(days=1)
    last = datetime.date.fromisoformat(days[-1]) + datetime.timedelta(days=1)
    span = ["--from", first.isoformat(), "--to", last.isoformat()]

    def expected_cells(tenant: str, day: str) -> list[str]:
        r = expected[(tenant, day)]
        micros = r["micros"]
        return [tenant, day, str(r["scored"]), str(r["sending"]), str(r["receiving"]), str(r["allow"]), str(r["review"]),
                str(r["block"]), str(r["duplicates"]), str(r["scored"]),
                str(nearest_rank(micros, 50)) if micros else "", str(nearest_rank(micros, 99)) if micros else "",
                f"big={r['big']}" if r["big"] else ""]

    order = sorted(expected)
    want = [expected_cells(tenant, day) for tenant, day in order]
    c.check(sum(expected[k]["scored"] for k in order if k[0] == "demo") == 8
            and sum(expected[k]["duplicates"] for k in order if k[0] == "bank-b") == 2, f"unexpected plan: {expected}")

    # 2. CSV (RFC 4180, CRLF).
    out = report(vigil, data, *span, "--format", "csv").stdout.decode()
    c.check(out.endswith("\r\n") and "\n" not in out.replace("\r\n", ""), f"csv lines should end CRLF: {out!r}")
    got = list(csv.reader(io.StringIO(out, newline="")))
    c.check(got[0] == ["tenant", "day", "scored", "sending", "receiving", "allow", "review", "block", "duplicates",
                       "billable_units", "p50_micros", "p99_micros", "rule_firings"], f"csv header: {got[0]}")
    c.check(got[1:] == want, f"csv rows:\n  got  {got[1:]}\n  want {want}")
    c.log(f"ok   csv: {len(want)} tenant-day row(s) match what was sent")

    # Markdown, the default.
    out = report(vigil, data, *span).stdout.decode()
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in out.splitlines() if line.startswith("| ")]
    c.check(rows[1:] == want, f"markdown rows:\n  got  {rows[1:]}\n  want {want}\n{out}")
    c.log("ok   markdown (default) has the same rows")

    # JSON.
    document = json.loads(report(vigil, data, *span, "--format", "json").stdout)
    c.check(document["schema"] == "vigil.report.v1" and document["tenant"] is None
            and (document["from"], document["to"]) == (first.isoformat(), last.isoformat()), f"json header: {document}")
    for entry, (tenant, day) in zip(document["days"], order):
        r = expected[(tenant, day)]
        micros = r["micros"]
        c.check(entry == {
            "tenant": tenant, "day": day, "scored": r["scored"],
            "perspectives": {"sending": r["sending"], "receiving": r["receiving"]},
            "decisions": {"allow": r["allow"], "review": r["review"], "block": r["block"]},
            "duplicates": r["duplicates"], "billableUnits": r["scored"],
            "processingMicros": {"p50": nearest_rank(micros, 50) if micros else None,
                                 "p99": nearest_rank(micros, 99) if micros else None},
            "ruleFirings": {"big": r["big"]} if r["big"] else {},
        }, f"json {tenant} {day}: {entry} against {r}")
    c.check(len(document["days"]) == len(order), f"json has {len(document['days'])} days, expected {len(order)}")
    c.log("ok   json document matches")

    # 3. One tenant; the billing CSV.
    got = list(csv.reader(io.StringIO(report(vigil, data, *span, "--format", "csv", "--tenant", "bank-b").stdout.decode(), newline="")))
    c.check(got[1:] == [w for w in want if w[0] == "bank-b"], f"--tenant bank-b: {got}")
    got = list(csv.reader(io.StringIO(report(vigil, data, *span, "--monthly").stdout.decode(), newline="")))
    months: dict[tuple[str, str], list[int]] = {}
    for (tenant, day), r in expected.items():
        m = months.setdefault((tenant, day[:7]), [0, 0, 0])
        m[0] += r["scored"]
        m[1] += r["scored"]
        m[2] += r["duplicates"]
    want_months = [[tenant, month, *map(str, months[(tenant, month)])] for tenant, month in sorted(months)]
    c.check(got == [["tenant", "month", "billable_units", "scored", "duplicates"], *want_months], f"--monthly: {got} want {want_months}")
    c.log(f"ok   --tenant keeps to bank-b; --monthly: {want_months}")

    # 4. An empty range, and bad input.
    empty = ["--from", "2001-01-01", "--to", "2001-01-31"]
    c.check("No events in this range." in report(vigil, data, *empty).stdout.decode(), "an empty md report")
    c.check(report(vigil, data, *empty, "--format", "csv").stdout.decode().count("\r\n") == 1, "an empty csv is its header")
    c.check(json.loads(report(vigil, data, *empty, "--format", "json").stdout)["days"] == [], "an empty json report")
    bare = c.make_temp_dir("vigil-report-bare-")
    c.init_data_dir(vigil, bare)
    shutil.rmtree(os.path.join(bare, "events"), ignore_errors=True)
    for argv, directory, message in [
        ([*span, "--format", "xml"], data, b"--format must be one of md, csv, json"),
        (["--from", "2026-02-02", "--to", "2026-02-01"], data, b"--from is after --to"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], data, b"--from must be a date written YYYY-MM-DD"),
        (["--from", "2026-02-01", "--to", "yesterday"], data, b"--to must be a date written YYYY-MM-DD"),
        ([*span, "--monthly", "--format", "json"], data, b"--monthly prints the billing CSV"),
        (span, c.make_temp_dir("vigil-report-empty-"), b"is not a Vigil data directory"),
        (span, bare, b"no event log at"),
    ]:
        cp = report(vigil, directory, *argv, check_status=False)
        c.check(cp.returncode == 2 and message in cp.stderr and not cp.stdout.strip(),
                f"`vigil report {' '.join(argv)}` should exit 2 with {message!r}: {cp.returncode} {cp.stderr!r} {cp.stdout[:200]!r}")
    c.log("ok   an empty range is an empty report; bad input exits 2 naming the problem")
    c.log("report_cli: all checks passed")


if __name__ == "__main__":
    c.run_main("report_cli", __doc__, main, time_limit=120)
