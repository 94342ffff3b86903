#!/usr/bin/env python3
"""Black-box test: a client's clock cannot blind the velocity features, and a payment id cannot be reused.

    python3 Tests/blackbox/client_clock.py --vigil .build/debug/vigil

On the real binary, with a fresh data directory:

1. A payment dated 2099 is refused: 400 validation-failed, one error at /createdAt, nothing of the body echoed.
2. Six £100 payments in a few seconds from a debtor that first sent the 2099 payment and one dated 4 minutes ahead
   (accepted: within the 5-minute skew) see all the debtor's payments in debtor.count_5m, sum_5m and
   pair.possible_double_payment, like a clean debtor's six.
3. A payment dated 3 days ago (past the 24 h lag) is still scored.
4. A paymentId scored for £2,500 and sent again for £9,999 gets 409 payment-id-reused; the exact retry stays a
   duplicate with the original scoreId. Both still hold after a restart (the fingerprint comes back from the log).
5. A server with a one-hour skew accepts a payment dated 55 minutes ahead; after a restart with the default bounds,
   recovery folds that event in and the debtor's later payments still count it and each other in the 5-minute window.

The features are read from `vigil events export`, which the server logged as it scored.
"""
from __future__ import annotations

import json

import common as c

SCORE = "/v1/payments/score"


def payment(pid: str, debtor: str, created_at: str, amount: str = "100.00") -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": amount, "currency": "GBP", "createdAt": created_at,
        "debtor": {"account": {"sortCode": "404142", "accountNumber": debtor}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def post(server: c.Server, key: str, body: dict) -> c.Response:
    return c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))


def scored(server: c.Server, key: str, body: dict) -> dict:
    resp = post(server, key, body)
    c.check(resp.status == 200, f"{body['paymentId']}: {resp.status} {resp.body[:300]!r}")
    return resp.json()


def logged_features(vigil: str, data: str) -> dict[str, dict[str, float | None]]:
    """paymentId → feature name → value, for every payment the server logged."""
    names = [line.split("\t")[0] for line in c.run_cli(vigil, ["features", "list"]).stdout.decode().splitlines()]
    records, _, _ = c.export_events(vigil, data)
    return {r["paymentId"]: dict(zip(names, r["features"])) for r in records}


def expect_velocity(features: dict[str, float | None], count: int, label: str) -> None:
    for name, expected in (("debtor.count_5m", count), ("debtor.sum_5m", 100.0 * count),
                           ("debtor.count_1h", count), ("pair.possible_double_payment", 1)):
        c.check(features.get(name) == expected, f"{label}: {name} is {features.get(name)!r}, expected {expected}")


def main(args) -> None:
    data = c.make_temp_dir("vigil-clock-")
    server = c.Server(args.vigil, data, name="clock").start()
    server.wait_ready()
    key = c.read_demo_key(data)

    # 1. The year 2099.
    future = payment(c.new_payment_id("clock-2099"), "11111111", "2099-01-01T00:00:00Z")
    resp = post(server, key, future)
    c.check(resp.status == 400, f"a 2099 createdAt got {resp.status}: {resp.body[:300]!r}")
    problem = resp.json()
    c.check(problem.get("type") == "urn:vigil:problem:validation-failed", f"2099: type {problem.get('type')!r}")
    pointers = [e.get("pointer") for e in problem.get("errors", [])]
    c.check(pointers == ["/createdAt"], f"2099: pointers {pointers}")
    c.check(b"2099" not in resp.body, f"2099: the problem echoes the submitted time: {resp.body!r}")
    c.log("ok   a 2099 createdAt is 400 validation-failed at /createdAt")

    # 2. Velocity after a payment 4 minutes ahead, against a clean debtor.
    ahead = scored(server, key, payment(c.new_payment_id("clock-ahead"), "11111111", c.rfc3339_now(240)))
    c.check(ahead.get("duplicate") is False, f"ahead: {ahead}")
    tried, clean = [], []
    for i in range(6):
        tried.append(scored(server, key, payment(c.new_payment_id(f"clock-tried{i}"), "11111111", c.rfc3339_now()))["paymentId"])
        clean.append(scored(server, key, payment(c.new_payment_id(f"clock-clean{i}"), "22222222", c.rfc3339_now()))["paymentId"])

    # 3. Three days late.
    late = scored(server, key, payment(c.new_payment_id("clock-late"), "33333333", c.rfc3339_now(-3 * 86400)))
    c.log(f"ok   a payment 3 days late is scored ({late['score']} {late['decision']})")

    # 4. A reused id, and an exact retry.
    original = payment(c.new_payment_id("clock-reuse"), "44444444", c.rfc3339_now(), amount="2500.00")
    first = scored(server, key, original)
    changed = dict(original, amount="9999.00")

    def expect_reuse_refused_and_retry_duplicate(when: str) -> None:
        resp = post(server, key, changed)
        c.check(resp.status == 409, f"{when}: a changed retry got {resp.status}: {resp.body[:300]!r}")
        problem = resp.json()
        c.check(problem.get("type") == "urn:vigil:problem:payment-id-reused", f"{when}: type {problem.get('type')!r}")
        c.check(resp.media_type == "application/problem+json", f"{when}: media type {resp.media_type!r}")
        c.check(b"9999" not in resp.body and original["paymentId"].encode() not in resp.body,
                f"{when}: the problem echoes a submitted value: {resp.body!r}")
        again = scored(server, key, original)
        c.check(again.get("duplicate") is True and again.get("scoreId") == first["scoreId"],
                f"{when}: the exact retry is not the original duplicate: {again}")
        c.log(f"ok   {when}: a changed retry is 409 payment-id-reused, the exact retry a duplicate")

    expect_reuse_refused_and_retry_duplicate("live")
    server.terminate()
    server.start()
    server.wait_ready()
    expect_reuse_refused_and_retry_duplicate("after a restart")
    server.terminate()

    features = logged_features(args.vigil, data)
    expect_velocity(features[clean[-1]], 5, "the clean debtor's sixth payment")
    expect_velocity(features[tried[-1]], 6, "the sixth payment after a 2099 try and one 4 minutes ahead")
    c.check(not any(pid.startswith("clock-2099") for pid in features), "the 2099 payment was logged")
    changed_logged = [pid for pid in features if pid == original["paymentId"]]
    c.check(len(changed_logged) == 1, f"the reused id was logged {len(changed_logged)} times")
    c.log("ok   velocity is not hidden: debtor.count_5m 6 after the tries, 5 for a clean debtor")

    # 5. A future-dated event in the log, folded in by recovery.
    server.env = {"VIGIL_CREATED_AT_SKEW_SECONDS": "3600"}
    server.start()
    server.wait_ready()
    scored(server, key, payment(c.new_payment_id("clock-log-ahead"), "55555555", c.rfc3339_now(55 * 60)))
    server.terminate()
    server.env = None
    server.start()
    server.wait_ready()
    after = [scored(server, key, payment(c.new_payment_id(f"clock-after{i}"), "55555555", c.rfc3339_now()))["paymentId"]
             for i in range(3)]
    server.terminate()
    features = logged_features(args.vigil, data)
    expect_velocity(features[after[-1]], 3, "the third payment after a recovered event dated 55 minutes ahead")
    c.log("ok   recovery of an event dated 55 minutes ahead leaves the later windows counting")
    c.log("client_clock: all checks passed")


if __name__ == "__main__":
    c.run_main("client_clock", __doc__, main, time_limit=150)
