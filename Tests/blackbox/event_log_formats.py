#!/usr/bin/env python3
"""Black-box test: the compact binary event-log records, and the JSON records older logs hold, export and recover alike.

    python3 Tests/blackbox/event_log_formats.py --vigil .build/debug/vigil

On the real binary, with a fresh data directory:

1. A server scores payments (one with every optional field) and answers two retries as duplicates; it is stopped.
   Its log holds binary records: no segment record starts with `{`, and the log is far smaller than the JSON lines
   `vigil events export` prints for it.
2. The same events as an old log would hold them: a copy of the data directory whose segment holds, for each record,
   the JSON object export printed (less its `sequence`), written with the segment format of docs/event-log.md. Its
   export is byte for byte the export of the binary log: a binary record exports as the JSON record of its event did.
3. A server started on the JSON-record copy recovers it: an exact retry of a payment logged as JSON is a duplicate
   with its original score id. It then appends binary records after the JSON ones, and the export of this mixed log
   starts with the same lines as before.
4. A damaged binary record (a byte flipped inside the payload, CRC fixed up so the log itself accepts it) makes
   `vigil events export` exit 1 naming the record's sequence number and the field, without a crash.
"""
from __future__ import annotations

import json
import os
import shutil
import struct

import common as c

SCORE = "/v1/payments/score"


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as the log's record header holds it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def read_segments(events: str) -> list[bytes]:
    """Every record payload of a log directory, in order."""
    payloads = []
    for name in sorted(n for n in os.listdir(events) if n.endswith(".log")):
        with open(os.path.join(events, name), "rb") as fh:
            data = fh.read()
        at = 0
        while at + 8 <= len(data):
            length, crc = struct.unpack_from("<II", data, at)
            if length == 0 and crc == 0:
                break
            payload = data[at + 8:at + 8 + length]
            c.check(crc32c(payload) == crc, f"{name}: record at byte {at} fails its CRC")
            payloads.append(payload)
            at += 8 + length
    return payloads


def write_segment(events: str, first_sequence: int, payloads: list[bytes]) -> None:
    """A log directory of one segment holding `payloads`, as a log written before preallocation (no zero tail)."""
    for name in os.listdir(events):
        os.remove(os.path.join(events, name))
    with open(os.path.join(events, f"{first_sequence:020d}.log"), "wb") as fh:
        for payload in payloads:
            fh.write(struct.pack("<II", len(payload), crc32c(payload)))
            fh.write(payload)


def payment(pid: str, full: bool) -> dict:
    body = {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": "125.50", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "404142", "accountNumber": "12345678"}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }
    if full:
        body["debtor"]["name"] = "Alice Example"
        body["debtor"]["agent"] = "HBUKGB4B"
        body["creditor"]["name"] = "Bob Example"
        body["payee"] = {"firstSeenAt": c.rfc3339_now(-86_400 * 3), "confirmationOfPayee": "close_match"}
        body["device"] = {"id": "device-123", "ip": "192.0.2.7"}
        body["reference"] = "invoice 42"
    return body


def export(vigil: str, data: str) -> bytes:
    return c.run_cli(vigil, ["events", "export", "--data-dir", data]).stdout


def score(server: c.Server, key: str, body: dict) -> dict:
    resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
    c.check(resp.status == 200, f"{body['paymentId']}: {resp.status} {resp.body[:300]!r}")
    return resp.json()


def main(args) -> None:
    vigil = args.vigil
    data = c.make_temp_dir("vigil-formats-")
    c.init_data_dir(vigil, data)
    key = c.read_demo_key(data)

    # 1. A binary log.
    server = c.Server(vigil, data, name="binary").start()
    server.wait_ready()
    bodies = [payment(c.new_payment_id(f"formats-{i}"), full=i % 2 == 0) for i in range(6)]
    answers = [score(server, key, body) for body in bodies]
    for index in (0, 3):
        again = score(server, key, bodies[index])
        c.check(again["duplicate"] is True and again["scoreId"] == answers[index]["scoreId"], f"retry {index}: {again}")
    c.check(server.terminate() == 0, "the server did not stop cleanly")
    events = os.path.join(data, "events")
    binary = read_segments(events)
    c.check(len(binary) == 8, f"the log holds {len(binary)} records, expected 6 scored and 2 answered")
    c.check(all(p[:1] != b"{" for p in binary), "a record of the new log is JSON, not binary")
    lines = export(vigil, data)
    scored, answered, _, _ = c.export_log(vigil, data)
    c.check(len(scored) == 6 and len(answered) == 2, f"export: {len(scored)} scored, {len(answered)} answered")
    c.check(scored[0]["request"]["device"] and scored[0]["request"]["sealedReference"],
            "the full payment's event lacks its device or reference")
    json_bytes = sum(len(line) for line in lines.splitlines())
    binary_bytes = sum(len(p) for p in binary)
    c.check(binary_bytes * 2 < json_bytes, f"binary records take {binary_bytes} bytes against {json_bytes} as JSON")
    c.log(f"ok   binary log: 8 records, {binary_bytes} bytes against {json_bytes} bytes of exported JSON")

    # 2. The same events as JSON records export byte for byte the same.
    old = c.make_temp_dir("vigil-formats-json-")
    shutil.rmtree(old)
    shutil.copytree(data, old)
    first_sequence = json.loads(lines.splitlines()[0])["sequence"]
    objects = []
    for line in lines.splitlines():
        prefix = f'{{"sequence":{json.loads(line)["sequence"]},'.encode()
        c.check(line.startswith(prefix), f"an export line does not start with its sequence: {line[:80]!r}")
        objects.append(b"{" + line[len(prefix):])
    write_segment(os.path.join(old, "events"), first_sequence, objects)
    c.check(export(vigil, old) == lines, "the JSON-record log does not export byte for byte as the binary one")
    c.log("ok   a log of the same events as JSON records exports byte for byte the same lines")

    # 3. A server recovers the JSON records, then appends binary ones after them.
    server = c.Server(vigil, old, name="mixed").start()
    server.wait_ready()
    again = score(server, key, bodies[1])
    c.check(again["duplicate"] is True and again["scoreId"] == answers[1]["scoreId"],
            f"a retry of a payment logged as JSON is not its duplicate after recovery: {again}")
    score(server, key, payment(c.new_payment_id("formats-after"), full=True))
    c.check(server.terminate() == 0, "the server did not stop cleanly")
    mixed = read_segments(os.path.join(old, "events"))
    c.check([p[:1] == b"{" for p in mixed] == [True] * 8 + [False] * 2, "the mixed log is not 8 JSON then 2 binary records")
    mixed_lines = export(vigil, old)
    c.check(mixed_lines.startswith(lines), "the mixed log's export changed the lines of its JSON records")
    scored, answered, _, _ = c.export_log(vigil, old)
    c.check(len(scored) == 7 and len(answered) == 3, f"mixed export: {len(scored)} scored, {len(answered)} answered")
    c.log("ok   recovery reads JSON records; binary ones follow them; the mixed log exports both")

    # 4. A damaged binary record is refused with its sequence and field.
    payloads = read_segments(events)
    damaged = bytearray(payloads[2])
    damaged[0] = 0x7F
    payloads[2] = bytes(damaged)
    write_segment(events, first_sequence, payloads)
    cp = c.run_cli(vigil, ["events", "export", "--data-dir", data], check_status=False)
    err = cp.stderr.decode("utf-8", "replace")
    c.check(cp.returncode == 1, f"export of a damaged record exited {cp.returncode}: {err[-500:]}")
    c.check(f"record {first_sequence + 2} is not an event this version reads" in err and "format byte" in err,
            f"the error does not name the record and what is wrong: {err[-500:]}")
    c.log("ok   a damaged record: exit 1 naming its sequence and the format byte")


if __name__ == "__main__":
    c.run_main("event_log_formats", __doc__.splitlines()[0], main, time_limit=110)
