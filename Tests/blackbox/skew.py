#!/usr/bin/env python3
"""Online/offline skew test: the server and `vigil features` compute exactly the same feature values.

Simulates a small history with `vigil simulate`, posts every payment to a running server in the file's (time)
order, reads the features the server recorded for each payment from `vigil events export`, runs
`vigil features` on the same history with the server's data directory, and compares every value of every
feature of every payment: they must be identical (missing on both sides, or the same number).

The history starts 60 days before now (`--start`), and the server runs with `VIGIL_CREATED_AT_LAG_SECONDS` at 90 days,
so it computes every payment at its own `createdAt`, as `vigil features` does (docs/features.md, Time): live, a
payment older than the lag would be computed at its receive time.

One payment, one count (docs/redis.md, Feature state): two requests with the same debtor, creditor, amount,
currency and `createdAt` are one payment to the consortium, whatever their ids. The simulated history has no such
rows, so the test adds them: after every 250th payment, the same payment under another id (`…-twin`, as its other bank
would send it) and then a payment of the same debtor to the same creditor at the same instant, a cent more
(`…-probe`). Both are in the file `vigil features` reads. Besides the comparison, the twin's and the probe's
`debtor.count_5m`, `creditor.inbound_count_1h` and `pair.count` must be one more than the payment's own: counted once,
not twice.

With `--state redis` the server keeps its feature state in a `redis-server` of the test's own (a free loopback port,
AOF, its own temp dir; shared_state.py's `RedisServer`, killed by PID at the end) under a fresh `--state-prefix`, and
the same checks apply: the Redis store runs the same `FeatureExtractor` code, so it must give the same values as
`vigil features`, which replays the history through the in-process store. The test also checks that account records
were written under that prefix, so it cannot pass on in-process state.

    python3 Tests/blackbox/skew.py --vigil .build/debug/vigil
    python3 Tests/blackbox/skew.py --vigil .build/debug/vigil --state redis
"""
import collections
import csv
import datetime
import decimal
import json
import os
import shutil
import socket
import uuid

import common as c
from shared_state import RedisServer

PAYMENTS = 2500
HISTORY_AGE_DAYS = 60
TWIN_EVERY = 250


def unflatten(row: dict) -> dict:
    body: dict = {}
    for column, cell in row.items():
        if cell == "":
            continue
        node = body
        parts = column.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = cell
    return body


def consortium_identity(row: dict) -> tuple:
    """What makes two rows one payment to the consortium: both accounts, amount, currency and `createdAt`."""
    accounts = [column for column in row if column.startswith(("debtor.account.", "creditor.account."))]
    return (*(row[column] for column in accounts), row["amount"], row["currency"], row["createdAt"])


def redis_keys(redis: RedisServer, pattern: str) -> int:
    """How many keys in `redis` match `pattern` (counted by a script, so the names never cross the wire)."""
    with socket.create_connection((c.HOST, redis.port), timeout=10) as s:
        s.sendall(f"EVAL \"return #redis.call('KEYS', ARGV[1])\" 0 {pattern}\r\n".encode())
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = s.recv(64)
            c.check(chunk != b"", f"redis-server closed the connection after {reply!r}")
            reply += chunk
    c.check(reply.startswith(b":"), f"redis-server answered the key count with {reply!r}")
    return int(reply[1:-2])


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-skew-")
    sim = os.path.join(tmp, "sim")
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=HISTORY_AGE_DAYS)
    c.run_cli(args.vigil, ["simulate", "--seed", "5", "--payments", str(PAYMENTS), "--out", sim,
                           "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ")], timeout=60)
    with open(os.path.join(sim, "history.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    c.check(len(rows) >= PAYMENTS * 0.9, f"simulate wrote only {len(rows)} rows")
    # For some payments, a second request for the same payment under another id (as its other bank sends it), then
    # another payment of the same debtor to the same creditor at the same instant (a cent more): both sides must count
    # the payment and its twin once, so the probe sees one more payment than the first request did, not two.
    columns = list(rows[0])
    twinned = []
    twins = []
    for i, row in enumerate(rows):
        twinned.append(row)
        if i % TWIN_EVERY == TWIN_EVERY // 2:
            twin = {**row, "paymentId": row["paymentId"] + "-twin"}
            # Another payment has another UETR (the twin keeps the payment's own: both banks send the same one).
            probe = {**row, "paymentId": row["paymentId"] + "-probe", "uetr": "",
                     "amount": str(decimal.Decimal(row["amount"]) + decimal.Decimal("0.01"))}
            twinned += [twin, probe]
            twins.append((row["paymentId"], twin["paymentId"], probe["paymentId"]))
    rows = twinned
    history = os.path.join(tmp, "history.csv")
    with open(history, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    identities = collections.Counter(consortium_identity(row) for row in rows)
    shared = sum(n for n in identities.values() if n > 1)
    c.log(f"{len(rows)} payments, {shared} of them in groups that are one payment to the consortium")

    data = os.path.join(tmp, "server")
    state_args: list[str] = []
    redis = None
    if args.state == "redis":
        c.check(shutil.which("redis-server") is not None, "redis-server is not installed (scripts/test installs it)")
        redis_dir = os.path.join(tmp, "redis")
        os.mkdir(redis_dir)
        redis = RedisServer(redis_dir)
        state_args = ["--state", redis.url, "--state-prefix", f"skew-{uuid.uuid4().hex[:12]}:"]
    server = None
    try:
        if redis is not None:
            redis.start()
            c.log(f"state on redis-server pid {redis.proc.pid}, port {redis.port}")
        server = c.Server(args.vigil, data, extra_args=["--durability", "async", *state_args], name="skew",
                          env={"VIGIL_CREATED_AT_LAG_SECONDS": str((HISTORY_AGE_DAYS + 30) * 86400)}).start()
        server.wait_ready()
        client = c.KeepAliveClient(server.port, c.read_demo_key(data))
        for row in rows:
            status, body = client.post_json("/v1/payments/score", json.dumps(unflatten(row)).encode())
            c.check(status == 200, f"payment {row['paymentId']} was refused with {status}: {body[:300]!r}")
        if redis is not None:
            records = redis_keys(redis, state_args[-1] + "a{*")
            c.check(records > 0, f"redis-server holds no account record under {state_args[-1]!r}: the server did not "
                                 "keep its feature state there")
            c.log(f"redis-server holds {records} account records under the test's prefix")
        c.check(server.terminate() == 0, "the server did not stop cleanly on SIGTERM")
    finally:
        for process in (server, redis):
            if process is not None:
                process.kill()  # by its PID; a no-op for one already stopped

    names = [line.split("\t")[0] for line in c.run_cli(args.vigil, ["features", "list"]).stdout.decode().splitlines()]
    records, _, _ = c.export_events(args.vigil, data)
    online = {r["paymentId"]: r["features"] for r in records}
    c.check(len(online) == len(rows), f"the server logged {len(online)} payments of {len(rows)}")

    features_csv = os.path.join(tmp, "features.csv")
    c.run_cli(args.vigil, ["features", "--history", history, "--labels",
                           os.path.join(sim, "labels.csv"), "--out", features_csv, "--data-dir", data], timeout=60)
    with open(features_csv, newline="") as fh:
        offline = list(csv.DictReader(fh))
    c.check(len(offline) == len(rows), f"vigil features wrote {len(offline)} rows of {len(rows)}")

    mismatches = []
    compared = 0
    for row in offline:
        served = online.get(row["paymentId"])
        c.check(served is not None, f"{row['paymentId']} is in the feature file but not in the event log")
        c.check(len(served) == len(names), f"the event holds {len(served)} features, `features list` names {len(names)}")
        for name, value in zip(names, served):
            cell = row[name]
            same = (value is None and cell == "") or (value is not None and cell != "" and float(cell) == float(value))
            compared += 1
            if not same:
                mismatches.append(f"{row['paymentId']} {name}: server {value!r}, offline {cell!r}")
    c.check(not mismatches, f"{len(mismatches)} of {compared} values differ, e.g.\n  " + "\n  ".join(mismatches[:10]))
    folded = []
    for first, twin, probe in twins:
        counts = {pid: dict(zip(names, online[pid])) for pid in (first, twin, probe)}
        for name in ("debtor.count_5m", "creditor.inbound_count_1h", "pair.count"):
            expected = counts[first][name] + 1
            c.check(counts[twin][name] == expected and counts[probe][name] == expected,
                    f"{name} of {first}: {counts[first][name]}, of its twin {counts[twin][name]}, of the payment "
                    f"after them {counts[probe][name]}; the twin must count once with its payment: "
                    f"{expected} and {expected}")
        folded.append(first)
    c.check(len(folded) >= 5, f"only {len(folded)} payments were sent twice: the fold is hardly tested")
    nonzero = sum(1 for r in offline for n in names if r[n] not in ("", "0", "0.0"))
    c.check(nonzero > compared // 4, "almost every feature is zero or missing: the comparison would prove little")
    c.log(f"compared {compared} values ({len(offline)} payments × {len(names)} features, state {args.state}): "
          f"all identical; {len(folded)} payments sent twice counted once on both sides")


def options(parser) -> None:
    parser.add_argument("--state", choices=("memory", "redis"), default="memory",
                        help="where the server keeps its feature state: in process (default) or in a redis-server "
                             "the test starts")


if __name__ == "__main__":
    c.run_main("skew", __doc__, main, time_limit=170, options=options)
