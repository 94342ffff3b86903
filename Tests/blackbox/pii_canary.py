#!/usr/bin/env python3
"""Black-box PII test: submitted personal data never reaches disk, logs, exports or metrics.

    python3 Tests/blackbox/pii_canary.py --vigil .build/debug/vigil

Starts `vigil serve` on an empty temp data dir with stdout/stderr captured to
files, posts ~55 payments whose names, account identifiers (IBAN, sort code +
account number, scheme ids), device ids, IPs and references are distinctive
canary strings (accepted ones, duplicates, and rejected ones: bad amounts, bad
IBAN checksum, unknown field, bad IP, malformed JSON, wrong API key), reads
GET /metrics, stops the server with SIGTERM and runs `vigil events export`.
Then searches the raw bytes of every file under the data dir, the captured
server stdout/stderr, the export output and the metrics text for every canary
(as sent, lowercase, uppercase; IBANs also in groups of four; sort codes also
dashed; IPv6 also exploded).  Any hit fails, naming the file and offset.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

SCORE = "/v1/payments/score"

NAMES = ["Zebedee Canarywick", "Philippa Quenchbottle", "Marmaduke Wrenfeather", "Ottoline Fizzwhistle"]
IBANS = [
    c.make_iban("GB", "CNRY" + "771199" + "31415926"),
    c.make_iban("DE", "50010517" + "9988776655"),
    c.make_iban("NL", "QUOK" + "7362518490"),
    c.make_iban("FR", "30006" + "00001" + "ZEBEDEE7777" + "89"),
]
BAD_IBAN = c.corrupt_iban_checksum(c.make_iban("GB", "ZEBE" + "313233" + "60616263"))  # only ever rejected
SORT_CODES = [("404142", "87654321"), ("515253", "24681357")]
SCHEME_IDS = [("PIX", "zebedee.canarywick@pix.example"), ("PIX", "+5511977665544"),
              ("UPI", "canarywick7781@okquokka"), ("UPI", "quokka.canary.upi@okaxis")]
DEVICE_IDS = ["canary-device-7781", "canary-device-9902"]
IPS = ["203.0.113.77", "2001:db8:ca7a:77::1f"]
REFERENCES = ["Rent Flat 7 Canarywick Mews", "INV-QUOKKA-55213"]
WRONG_KEY = "canary-api-key-QX81-not-a-key"   # only ever rejected
REJECTED_ONLY = {BAD_IBAN, WRONG_KEY}


def canaries() -> list[tuple[str, str]]:
    """(kind, value) for every canary."""
    out = [("name", n) for n in NAMES]
    out += [("iban", i) for i in IBANS + [BAD_IBAN]]
    # A sort code names a bank's branch, not a person: since issue 13 it stays readable past the edge as the party's
    # institution code (the directory and entitlements read it), as the agent's BIC always did. The account number
    # beside it stays a canary.
    for sort_code, account in SORT_CODES:
        out += [("accountNumber", account)]
    out += [("schemeId", sid) for _, sid in SCHEME_IDS]
    out += [("deviceId", d) for d in DEVICE_IDS]
    out += [("ip", ip) for ip in IPS]
    out += [("reference", r) for r in REFERENCES]
    out += [("apiKey", WRONG_KEY)]
    return out


def variants(kind: str, value: str) -> list[bytes]:
    forms = {value, value.lower(), value.upper()}
    if kind == "iban":
        spaced = c.spaced_iban(value)
        forms |= {spaced, spaced.lower()}
    if kind == "sortCode":
        forms.add(f"{value[0:2]}-{value[2:4]}-{value[4:6]}")
    if kind == "ip":
        addr = ipaddress.ip_address(value)
        forms |= {str(addr), addr.exploded}
    return sorted({f.encode("utf-8") for f in forms if f})


# ---------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------

def party(form: str, i: int) -> dict:
    name = NAMES[i % len(NAMES)]
    if form == "iban":
        account: dict = {"iban": IBANS[i % len(IBANS)]}
    elif form == "sort":
        sort_code, number = SORT_CODES[i % len(SORT_CODES)]
        account = {"sortCode": sort_code, "accountNumber": number}
    elif form == "pix":
        scheme, sid = SCHEME_IDS[i % 2]
        account = {"scheme": scheme, "id": sid}
    else:  # upi
        scheme, sid = SCHEME_IDS[2 + i % 2]
        account = {"scheme": scheme, "id": sid}
    return {"name": name, "account": account}


def payment(i: int) -> dict:
    shape = i % 5
    if shape == 0:
        scheme, currency, debtor, creditor = "FPS", "GBP", party("iban", 0), party("sort", i)
    elif shape == 1:
        scheme, currency, debtor, creditor = "FPS", "GBP", party("sort", i + 1), party("iban", i)
    elif shape == 2:
        scheme, currency, debtor, creditor = "PIX", "BRL", party("pix", i), party("pix", i + 1)
    elif shape == 3:
        scheme, currency, debtor, creditor = "UPI", "INR", party("upi", i), party("upi", i + 1)
    else:
        scheme, currency, debtor, creditor = "SEPA_INST", "EUR", party("iban", 2), party("iban", 3)
    creditor["name"] = NAMES[(i + 1) % len(NAMES)]
    body: dict[str, Any] = {
        "paymentId": c.new_payment_id(f"pii{i:02d}"),
        "perspective": "sending" if i % 3 else "receiving",
        "type": "push",
        "scheme": scheme,
        "channel": ["mobile", "web", "api"][i % 3],
        "amount": f"{10 + i * 7}.{i % 100:02d}",
        "currency": currency,
        "createdAt": c.rfc3339_now(-i),
        "debtor": debtor,
        "creditor": creditor,
        "payee": {"firstSeenAt": c.rfc3339_now(-86400 * (i + 1)), "confirmationOfPayee": "close_match"},
        "device": {"id": DEVICE_IDS[i % 2], "ip": IPS[i % 2]},
        "reference": REFERENCES[i % 2],
    }
    return body


def rejected_requests() -> list[tuple[str, bytes, str, int]]:
    """(label, body, api key override or '', expected status)."""
    base = payment(0)

    def variant(**edits: Any) -> dict:
        body = json.loads(json.dumps(base))
        body["paymentId"] = c.new_payment_id("pii-rej")
        body.update(edits)
        return body

    bad_iban = variant()
    bad_iban["debtor"]["account"] = {"iban": BAD_IBAN}
    bad_ip = variant()
    bad_ip["device"] = {"id": DEVICE_IDS[0], "ip": IPS[0] + "7"}  # 203.0.113.777
    unknown = variant()
    unknown["debtor"]["nickname"] = NAMES[0]
    out = [
        ("amount zero", variant(amount="0.00")),
        ("amount negative", variant(amount="-5.00")),
        ("amount over-precise", variant(amount="10.001")),
        ("amount not a string", variant(amount=12.5)),
        ("bad IBAN checksum", bad_iban),
        ("bad IP", bad_ip),
        ("unknown field", unknown),
    ]
    result = [(label, json.dumps(b).encode(), "", 400) for label, b in out]
    full = json.dumps(variant()).encode()
    result.append(("malformed JSON", full[: len(full) // 2], "", 400))
    result.append(("wrong API key", json.dumps(variant()).encode(), WRONG_KEY, 401))
    return result


# ---------------------------------------------------------------------------
# Searching
# ---------------------------------------------------------------------------

def find_all(haystack: bytes, needle: bytes) -> list[int]:
    out, start = [], 0
    while True:
        i = haystack.find(needle, start)
        if i < 0:
            return out
        out.append(i)
        start = i + 1


def search(sources: list[tuple[str, bytes]], targets: list[tuple[str, str]]) -> list[str]:
    hits = []
    for label, data in sources:
        for kind, value in targets:
            for form in variants(kind, value):
                for offset in find_all(data, form)[:3]:
                    context = data[max(0, offset - 40): offset + len(form) + 40]
                    hits.append(f"{label} @ offset {offset}: {kind} canary {form.decode()!r} in context {context!r}")
    return hits


def data_dir_sources(data_dir: str) -> list[tuple[str, bytes]]:
    out = []
    for root, dirs, files in os.walk(data_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                out.append((f"data dir file {os.path.relpath(path, data_dir)}", fh.read()))
    return out


# ---------------------------------------------------------------------------

def run(args: Any) -> None:
    data_dir = c.make_temp_dir("vigil-pii-data-")
    log_dir = c.make_temp_dir("vigil-pii-logs-")
    stdout_path = os.path.join(log_dir, "server.stdout")
    stderr_path = os.path.join(log_dir, "server.stderr")
    # Trace level, so the per-payment log lines (debug) are searched too.
    server = c.Server(args.vigil, data_dir, stdout_path=stdout_path, stderr_path=stderr_path, name="pii",
                      env={"VIGIL_LOG_LEVEL": "trace"})
    server.start()
    server.wait_ready()
    key = c.read_demo_key(data_dir)
    c.log(f"server on port {server.port}, data dir {data_dir}, logs in {log_dir}")

    sent_bodies: list[bytes] = []
    accepted_bodies: list[bytes] = []
    accepted: dict[str, dict] = {}
    problems: list[str] = []

    def post(label: str, body: bytes, api_key: str, expect: int, expect_duplicate: bool | None = None) -> Any:
        sent_bodies.append(body)
        if api_key != key:
            sent_bodies.append(f"Authorization: Bearer {api_key}".encode())
        resp = c.request(server.port, "POST", SCORE, body=body,
                         headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"})
        if resp.status != expect:
            problems.append(f"{label}: HTTP {resp.status}, expected {expect}: {resp.body[:300]!r}")
            return None
        if expect == 200:
            parsed = resp.json()
            if expect_duplicate is not None and parsed.get("duplicate") is not expect_duplicate:
                problems.append(f"{label}: duplicate={parsed.get('duplicate')!r}, expected {expect_duplicate}")
            return parsed
        return None

    # accepted payments
    payments = [payment(i) for i in range(40)]
    for i, body in enumerate(payments):
        raw = json.dumps(body).encode()
        parsed = post(f"payment {i}", raw, key, 200, expect_duplicate=False)
        if parsed is not None:
            accepted[body["paymentId"]] = parsed
            accepted_bodies.append(raw)
    # duplicates
    for i in (0, 7, 13, 21, 38):
        body = payments[i]
        parsed = post(f"duplicate of payment {i}", json.dumps(body).encode(), key, 200, expect_duplicate=True)
        if parsed is not None and body["paymentId"] in accepted and \
                parsed.get("scoreId") != accepted[body["paymentId"]].get("scoreId"):
            problems.append(f"duplicate of payment {i}: scoreId differs from the original")
    # rejected ones
    rejected = rejected_requests()
    for label, raw, key_override, expect in rejected:
        post(label, raw, key_override or key, expect)

    metrics = c.request(server.port, "GET", "/metrics")
    c.check(metrics.status == 200, f"GET /metrics returned {metrics.status}")
    c.log(f"posted {len(payments) + 5 + len(rejected)} request(s): {len(accepted)} accepted, 5 duplicates, "
          f"{len(rejected)} rejected; /metrics {len(metrics.body)} bytes")
    if problems:
        c.fail("unexpected responses (the test would not be testing what it claims):\n  " + "\n  ".join(problems))

    c.check(server.running(), f"server died\n{server.output_tail()}")
    code = server.terminate()
    c.log(f"server stopped with SIGTERM (exit status {code})")

    records, export_out, export_err = c.export_events(args.vigil, data_dir)
    c.check(export_out.strip(), "`vigil events export` printed nothing")
    exported = {r["paymentId"] for r in records}
    missing = [p for p in accepted if p not in exported]
    c.check(not missing, f"{len(missing)} accepted payment(s) missing from the export, e.g. {missing[:3]}")
    c.check(len(records) == len(accepted),
            f"export has {len(records)} record(s), expected {len(accepted)} (one per accepted payment)")
    c.log(f"export: {len(records)} record(s), {len(export_out)} bytes")

    targets = canaries()
    # positive controls: the search finds every canary in what was sent, and every canary that is not
    # rejected-only was part of an accepted (hence persisted) payment.
    sent_blob = b"\n".join(sent_bodies)
    accepted_blob = b"\n".join(accepted_bodies)
    for kind, value in targets:
        c.check(search([("sent", sent_blob)], [(kind, value)]), f"self-check: canary {value!r} was never sent")
        if value not in REJECTED_ONLY:
            c.check(value.encode() in accepted_blob, f"self-check: canary {value!r} not in any accepted payment")

    sources = data_dir_sources(data_dir)
    c.check(sources, f"data dir {data_dir} contains no files")
    data_bytes = sum(len(d) for _, d in sources)
    with open(stdout_path, "rb") as fh:
        server_out = fh.read()
    with open(stderr_path, "rb") as fh:
        server_err = fh.read()
    c.check(server_err.count(b'"msg":"Scored payment"') >= 40,
            "the server's stderr lacks the per-payment log lines, so the log search would prove nothing")
    sources += [("server stdout", server_out), ("server stderr", server_err),
                ("events export stdout", export_out), ("events export stderr", export_err),
                ("GET /metrics", metrics.body)]
    c.log(f"searching {len(sources)} source(s) ({len(sources) - 5} data-dir file(s), {data_bytes} bytes; "
          f"server stdout {len(server_out)} B, stderr {len(server_err)} B) for {len(targets)} canaries")
    hits = search(sources, targets)
    if hits:
        c.fail(f"{len(hits)} canary hit(s):\n  " + "\n  ".join(hits[:40]))
    c.log("no canary found anywhere")


if __name__ == "__main__":
    c.run_main("pii_canary", __doc__, run)
