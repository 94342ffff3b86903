#!/usr/bin/env python3
"""Black-box test of snapshots at graceful shutdown: a planned restart replays nothing and answers the same.

    python3 Tests/blackbox/snapshot_restart.py --vigil .build/debug/vigil

Starts `vigil serve`, scores 40 payments, stops it with SIGTERM: the server logs "Wrote a snapshot" (reason
shutdown) and DATA/snapshots/ holds one snapshot, named for the log's end. It restarts on the same data directory:
its "Recovery finished; ready" line says 0 events replayed from that snapshot, every payment retried is answered as
a duplicate with its original scoreId, and `vigil events export` still prints all 40. A kill -9 after more payments
then restarts from the snapshot plus exactly the payments after it.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

SCORE = "/v1/payments/score"


def payment(pid: str, i: int) -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": f"{100 + i}.{i % 100:02d}", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"name": "Snapshot Sender", "account": {"sortCode": "404142", "accountNumber": f"{10000000 + i % 5}"}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def log_entries(server: c.Server, message: str) -> list[dict]:
    entries = []
    for line in server.stderr_lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == message:
            entries.append(entry)
    return entries


def snapshots(data: str) -> list[str]:
    directory = os.path.join(data, "snapshots")
    return sorted(name for name in os.listdir(directory) if name.endswith(".snap")) if os.path.isdir(directory) else []


def main(args) -> None:
    vigil = args.vigil
    data = c.make_temp_dir("vigil-snapshot-")
    server = c.Server(vigil, data, name="first").start()
    server.wait_ready()
    key = c.read_demo_key(data)
    bodies, answers = [], {}
    for i in range(40):
        body = payment(c.new_payment_id(f"snap-{i}"), i)
        resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(resp.status == 200, f"payment {i}: {resp.status} {resp.body[:300]!r}")
        answers[body["paymentId"]] = resp.json()
        bodies.append(body)
    c.check(server.terminate() == 0, "the server did not exit 0 on SIGTERM")
    written = log_entries(server, "Wrote a snapshot")
    c.check(len(written) == 1 and written[0].get("vigil.snapshot.reason") == "shutdown",
            f"expected one shutdown snapshot, logged {written}")
    c.check(snapshots(data) == [f"{40:020d}.snap"], f"snapshots after SIGTERM: {snapshots(data)}")
    c.log(f"ok   SIGTERM wrote a snapshot at sequence 40 (pause {written[0].get('vigil.snapshot.pause')})")

    server = c.Server(vigil, data, name="restarted").start()
    server.wait_ready()
    finished = log_entries(server, "Recovery finished; ready")
    c.check(len(finished) == 1 and str(finished[0].get("vigil.recovery.events")) == "0"
            and str(finished[0].get("vigil.recovery.snapshot")) == "40",
            f"a planned restart should replay nothing from snapshot 40: {finished}")
    for body in bodies:
        resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
        answer = resp.json()
        c.check(resp.status == 200 and answer["duplicate"] is True
                and answer["scoreId"] == answers[body["paymentId"]]["scoreId"],
                f"retry of {body['paymentId']} after the restart: {resp.status} {answer}")
    c.log("ok   the restart replayed 0 events and answered all 40 retries as duplicates with their scoreIds")

    # Five new payments, then kill -9: no snapshot is written, so the next start loads the one at 40 again.
    for i in range(40, 45):
        body = payment(c.new_payment_id(f"snap-{i}"), i)
        resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(resp.status == 200, f"payment {i}: {resp.status}")
        bodies.append(body)
        answers[body["paymentId"]] = resp.json()
    server.kill()
    server = c.Server(vigil, data, name="after-kill").start()
    server.wait_ready()
    finished = log_entries(server, "Recovery finished; ready")
    # 40 retries were logged as duplicate-answered records, then 5 payments: 45 records after the snapshot.
    c.check(len(finished) == 1 and str(finished[0].get("vigil.recovery.snapshot")) == "40"
            and str(finished[0].get("vigil.recovery.events")) == "45",
            f"after kill -9 the restart should replay the 45 records after snapshot 40: {finished}")
    for body in bodies[40:]:
        resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
        c.check(resp.status == 200 and resp.json()["duplicate"] is True, f"retry after kill -9: {resp.status}")
    c.check(server.terminate() == 0, "the server did not exit 0 on SIGTERM")
    scored, _ = c.export_events(vigil, data)[:2]
    c.check(len(scored) == 45, f"`vigil events export` printed {len(scored)} scored events, not 45")
    c.log("ok   after kill -9 the restart replayed only the records after the snapshot; export prints all 45")
    c.log("snapshot_restart: all checks passed")


if __name__ == "__main__":
    c.run_main("snapshot_restart", __doc__, main, time_limit=120)
