#!/usr/bin/env python3
"""End-to-end test of the daily-file intake over the real programs: sshd/sftp, gpg and clamd (run as root).

    python3 Tests/blackbox/intake_e2e.py --vigil .build/debug/vigil [--prefix /srv/vigil-e2e-]

A data directory under /srv (sshd's chroot must be root-owned), `vigil serve --intake-scan clamd:SOCKET
--intake-pgp gpg` with a short settle time (VIGIL_INTAKE_SETTLE_MS), a bank with its own GNUPGHOME (ed25519 signing
key, cv25519 encryption subkey) registered with `vigil tenant pgp-key`, Vigil's key from `vigil intake key` imported
by the bank. Every file is signed and encrypted with gpg and uploaded with `sftp -b` through scripts/sftp-server
(one file also with POST /v1/files). clamd comes from VIGIL_TEST_CLAMD_SOCKET when set (scripts/test-servers start),
else the test starts its own with `scripts/test-servers start clamd` in a temp dir and stops it.

Checks, through `vigil files list`, scoring answers and the features in `vigil events export`:
- every file type loads (status, rows, accepted);
- a reported creditor raises the next payment's creditor.reported_fraud_count_90d;
- entitlements: a payment outside them is 403 urn:vigil:problem:not-entitled, one inside 200;
- a directory row sets creditor.institution_type; an account map makes customer.count_24h count the other account's
  payments; a history file back-fills debtor.count_7d;
- EICAR is quarantined (signature, DATA/quarantine/TENANT/ID); a file signed by another key and a plain file are
  refused; bad rows over the threshold reject a file; a wrong header, mixed line endings, a BOM, a truncated last
  line, an empty file (encrypted, and a 0-byte upload) and a header-only file are refused with their reason; bad rows
  under the threshold load the good rows and the outbox error report names row and column, never the value; none of
  these puts a record in the log;
- the same file again is a duplicate and changes nothing;
- kill -9 in the middle of a large history file's load, restart: the file finishes, no row counts twice (a probe's
  debtor.count_7d; the intake records in the log are unique per row);
- PII canaries (names, account numbers, IBANs, card numbers, customer ids) in every file type are nowhere in the
  data directory, the server's logs or the exported events.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402
import pii_canary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SFTP_SERVER = os.path.join(ROOT, "scripts", "sftp-server")
TEST_SERVERS = os.path.join(ROOT, "scripts", "test-servers")
SCORE = "/v1/payments/score"
FINAL = {"quarantined", "refused", "rejected", "loaded", "duplicate"}
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
BIG_ROWS = 120_000          # the large history file: long enough to be killed in the middle of its load
PROBE_ROWS = 40             # of which the probe debtor's

# Canaries: personal data in the files that must never leave the intake's edge.
NAMES = ["Zebedee Canarywick", "Philippa Quenchbottle", "Marmaduke Wrenfeather"]
CUSTOMER_IDS = ["cust-QUOKKA-77123", "cust-QUOKKA-88234"]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def rfc3339(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def luhn_pan(prefix: str, length: int = 16) -> str:
    body = prefix + "".join(str(random.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            n = n - 9 if n > 9 else n
        total += n
    return body + str((10 - total % 10) % 10)


class Account:
    """A UK account: sort code (the institution code, readable past the edge) and an 8-digit canary number."""

    def __init__(self, sort_code: str, number: str, iban: bool = False) -> None:
        self.sort_code, self.number = sort_code, number
        self.iban = c.make_iban("GB", "NWBK" + sort_code + number) if iban else None

    def api(self) -> dict:
        return {"iban": self.iban} if self.iban else {"sortCode": self.sort_code, "accountNumber": self.number}


def unique_number(used: set[str]) -> str:
    while True:
        n = f"{random.randrange(10**7, 10**8)}"
        if n not in used:
            used.add(n)
            return n


# ---------------------------------------------------------------------------
# Programs: gpg, sftp, clamd, vigil
# ---------------------------------------------------------------------------

class Bank:
    """A bank's side: its own GNUPGHOME with an ed25519 signing key and a cv25519 encryption subkey."""

    def __init__(self, home: str, email: str) -> None:
        self.home, self.email = home, email
        os.makedirs(home, mode=0o700, exist_ok=True)
        self.gpg("--quick-generate-key", f"E2E bank <{email}>", "ed25519", "sign", "never")
        listing = self.gpg("--with-colons", "--list-keys", email).stdout.decode()
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        self.gpg("--quick-add-key", self.fingerprint, "cv25519", "encr", "never")

    def gpg(self, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
        cp = subprocess.run(["gpg", "--homedir", self.home, "--batch", "--yes", "--pinentry-mode", "loopback",
                             "--passphrase", "", *args], input=data, capture_output=True, timeout=60)
        c.check(cp.returncode == 0, f"gpg {' '.join(args)} failed: {cp.stderr.decode(errors='replace')}")
        return cp

    def trust(self, armored: bytes, email: str) -> None:
        """Imports Vigil's intake key and certifies it locally (after checking its fingerprint with the operator)."""
        self.gpg("--import", data=armored)
        listing = self.gpg("--with-colons", "--list-keys", email).stdout.decode()
        fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        self.gpg("--quick-lsign-key", fingerprint)

    def public_key(self) -> bytes:
        return self.gpg("--armor", "--export", self.fingerprint).stdout

    def seal(self, plain: bytes) -> bytes:
        """Signs with the bank's key and encrypts to Vigil's intake key (what docs/intake.md tells a bank to do)."""
        return self.gpg("--local-user", self.fingerprint, "--recipient", "intake@vigil.invalid",
                        "--sign", "--encrypt", "--output", "-", data=plain).stdout

    def stop(self) -> None:
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "all"], capture_output=True, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upload:
    def __init__(self, work: str, port: int, key: str, user: str) -> None:
        self.work, self.port, self.key, self.user = work, port, key, user

    def put(self, files: dict[str, bytes]) -> None:
        """Writes each file locally, then uploads them all in one `sftp -b` session."""
        folder = os.path.join(self.work, "outgoing-" + secrets.token_hex(4))
        os.makedirs(folder)
        lines = []
        for name, content in files.items():
            with open(os.path.join(folder, name), "wb") as fh:
                fh.write(content)
            lines.append(f"put {os.path.join(folder, name)} {name}\n")
        batch = os.path.join(folder, ".batch")
        with open(batch, "w") as fh:
            fh.writelines(lines)
        cp = subprocess.run(["sftp", "-b", batch, "-P", str(self.port), "-i", self.key, "-o", "BatchMode=yes",
                             "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", f"{self.user}@127.0.0.1"],
                            capture_output=True, text=True, timeout=120)
        c.check(cp.returncode == 0, f"sftp upload failed: {cp.stdout}{cp.stderr}")
        shutil.rmtree(folder)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_list(vigil: str, data: str, tenant: str) -> list[dict]:
    cp = c.run_cli(vigil, ["files", "list", "--tenant", tenant, "--json", "--data-dir", data])
    return [json.loads(line) for line in cp.stdout.decode().splitlines() if line.strip()]


def wait_final(vigil: str, data: str, tenant: str, ids: list[str], server: c.Server, timeout: float = 120) -> dict[str, dict]:
    """Waits until every id has a final record; returns them by id."""
    deadline = time.monotonic() + timeout
    while True:
        records = {r["id"]: r for r in files_list(vigil, data, tenant)}
        pending = [i for i in ids if records.get(i, {}).get("status") not in FINAL]
        if not pending:
            return {i: records[i] for i in ids}
        c.check(server.running(), f"the server died while files were processed\n{server.output_tail()}")
        if time.monotonic() > deadline:
            fail_states = {i[:12]: records.get(i, {}).get("status", "absent") for i in pending}
            c.fail(f"files not final within {timeout:.0f}s: {fail_states}\n{server.output_tail()}")
        time.sleep(0.2)


def metric_sum(port: int, name: str) -> float:
    body = c.request(port, "GET", "/metrics").body.decode()
    return sum(float(m.group(1)) for m in re.finditer(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", body, re.M))


def start_clamd(work: str) -> tuple[str, dict]:
    """clamd's socket: from the environment (scripts/test-servers start), else a clamd of the test's own."""
    socket_path = os.environ.get("VIGIL_TEST_CLAMD_SOCKET")
    if socket_path:
        return socket_path, {}
    env = {**os.environ, "TMPDIR": work}
    cp = subprocess.run([TEST_SERVERS, "start", "clamd"], env=env, capture_output=True, timeout=120)
    c.check(cp.returncode == 0, f"scripts/test-servers start clamd failed: {cp.stderr.decode(errors='replace')}")
    with open(os.path.join(work, "vigil-test-servers", "env"), encoding="utf-8") as fh:
        match = re.search(r"VIGIL_TEST_CLAMD_SOCKET='([^']+)'", fh.read())
    c.check(match is not None, "scripts/test-servers wrote no VIGIL_TEST_CLAMD_SOCKET")
    return match.group(1), env


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def csv_text(header: list[str], rows: list[list[str]], ending: str = "\n") -> bytes:
    def cell(v: str) -> str:
        return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(ch in v for ch in ',"\r\n') else v
    return "".join(",".join(cell(v) for v in line) + ending for line in [header, *rows]).encode()


HISTORY_HEADER = ["paymentId", "perspective", "type", "scheme", "amount", "currency", "createdAt", "debtor.name",
                  "debtor.account.sortCode", "debtor.account.accountNumber", "creditor.name", "creditor.account.iban",
                  "creditor.account.sortCode", "creditor.account.accountNumber"]


def history_row(pid: str, at: dt.datetime, debtor: Account, creditor: Account, name: str, amount: str = "25.00") -> list[str]:
    return [pid, "sending", "push", "FPS", amount, "GBP", rfc3339(at), name, debtor.sort_code, debtor.number,
            NAMES[1], creditor.iban or "", "" if creditor.iban else creditor.sort_code,
            "" if creditor.iban else creditor.number]


# ---------------------------------------------------------------------------

def main(args) -> None:
    c.check(os.geteuid() == 0, "this test runs as root (sshd chroot, system users)")
    for tool in ("gpg", "gpgconf", "sftp", "ssh-keygen"):
        c.check(shutil.which(tool) is not None, f"{tool} is missing: scripts/install --packages-only")
    vigil = args.vigil
    work = c.make_temp_dir("vigil-e2e-")
    os.chmod(work, 0o700)
    parent = os.path.dirname(args.prefix) or "/"
    os.makedirs(parent, exist_ok=True)
    data = tempfile.mkdtemp(prefix=os.path.basename(args.prefix), dir=parent)
    os.chmod(data, 0o755)
    try:
        run(args, work, data)
    finally:
        if args.keep:
            c.log(f"(kept {data})")
        else:
            shutil.rmtree(data, ignore_errors=True)


def run(args, work: str, data: str) -> None:
    vigil = args.vigil
    tenant = f"e2e{secrets.token_hex(3)}"
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    server: c.Server | None = None
    sftp_started = False
    clamd_env: dict = {}
    banks: list[Bank] = []
    try:
        clamd_socket, clamd_env = start_clamd(work)
        intake_flags = ["--intake-scan", f"clamd:{clamd_socket}", "--intake-pgp", "gpg"]
        serve_env = {"VIGIL_INTAKE_SETTLE_MS": "300", "VIGIL_LOG_LEVEL": "trace"}

        # The operator: a data directory, a tenant, Vigil's intake key.
        c.init_data_dir(vigil, data)
        key = c.create_tenant(vigil, data, tenant)
        intake_key = c.run_cli(vigil, ["intake", "key", "--intake-pgp", "gpg", "--data-dir", data]).stdout
        c.check(intake_key.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"), f"vigil intake key: {intake_key[:80]!r}")
        again = c.run_cli(vigil, ["intake", "key", "--intake-pgp", "gpg", "--data-dir", data]).stdout
        c.check(again == intake_key, "vigil intake key printed another key the second time")

        # The bank: its own keys, Vigil's key imported; its public key registered by the operator.
        bank = Bank(os.path.join(work, "bank"), "bank@e2e.invalid")
        banks.append(bank)
        bank.trust(intake_key, "intake@vigil.invalid")
        bank_key_file = os.path.join(work, "bank.asc")
        with open(bank_key_file, "wb") as fh:
            fh.write(bank.public_key())
        registered = c.run_cli(vigil, ["tenant", "pgp-key", tenant, bank_key_file, "--intake-pgp", "gpg", "--data-dir", data])
        c.check(bank.fingerprint.encode() in registered.stdout, f"tenant pgp-key: {registered.stdout!r}")
        other = Bank(os.path.join(work, "other"), "other@e2e.invalid")
        banks.append(other)
        other.trust(intake_key, "intake@vigil.invalid")
        c.log(f"tenant {tenant}: bank key {bank.fingerprint} registered; Vigil's intake key imported by the bank")

        # SFTP: sshd chrooted at DATA/inbox, a user for the tenant.
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(work, "sftp-key")],
                       check=True, timeout=30)
        sftp_port = free_port()
        sftp_started = True
        started = subprocess.run([SFTP_SERVER, "start", data, str(sftp_port), f"{tenant}:{work}/sftp-key.pub"],
                                 capture_output=True, text=True, timeout=60)
        c.check(started.returncode == 0, f"scripts/sftp-server start failed: {started.stdout}{started.stderr}")
        upload = Upload(work, sftp_port, os.path.join(work, "sftp-key"), f"vigil-sftp-{tenant}")

        server = c.Server(vigil, data, extra_args=intake_flags, env=serve_env, name="serve-1",
                          stdout_path=os.path.join(logs, "serve.stdout"), stderr_path=os.path.join(logs, "serve.stderr"))
        server.start()
        server.wait_ready()
        c.log(f"serve on port {server.port} with clamd and gpg; sftp on port {sftp_port}; data {data}")

        used: set[str] = set()
        rng = random.Random()
        now = now_utc()

        accounts: list[Account] = []

        def acct(sort_code: str, iban: bool = False) -> Account:
            accounts.append(Account(sort_code, unique_number(used), iban))
            return accounts[-1]

        probes: dict[str, str] = {}   # label -> paymentId

        def pay(label: str, debtor: Account, creditor: Account, expect: int = 200, amount: str = "40.00") -> dict:
            pid = c.new_payment_id("e2e")
            body = {"paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "amount": amount,
                    "currency": "GBP", "createdAt": c.rfc3339_now(),
                    "debtor": {"name": NAMES[0], "account": debtor.api()},
                    "creditor": {"name": NAMES[2], "account": creditor.api()}}
            resp = c.request(server.port, "POST", SCORE, body=body, headers=c.score_headers(key))
            c.check(resp.status == expect, f"{label}: HTTP {resp.status}, expected {expect}: {resp.body[:300]!r}")
            probes[label] = pid
            return {"resp": resp, "id": pid}

        # Accounts. Sort codes 40xxxx are inside the entitlements loaded below; 60xxxx outside.
        payer = acct("403001")
        dir_creditor = acct("404142")
        reported = acct("404143")
        reported_iban = acct("404144", iban=True)
        linked_one, linked_two = acct("401001"), acct("401002", iban=True)
        history_debtor = acct("402000")
        outside = acct("600001")
        card = luhn_pan("4000")

        # Before any file: no institution type, no report, no entitlement check.
        pay("before-directory", payer, dir_creditor)
        pay("before-report", payer, reported)
        pay("outside-before-entitlements", outside, acct("405001"))
        c.log("before the files: scored (no directory, no reports, no entitlements loaded: not checked)")

        # -- the good files, one of each type ----------------------------------------------------------------
        valid_from = rfc3339(now - dt.timedelta(days=30))
        entitlements = csv_text(["codeType", "from", "to", "perspectives", "products", "validFrom", "validTo"], [
            ["sortCode", "400000", "499999", "sending;receiving", "FPS;SEPA_INST", valid_from, ""],
            ["bic", "NWBKGB2L", "NWBKGB2L", "receiving", "*", valid_from, rfc3339(now + dt.timedelta(days=365))],
        ])
        directory = csv_text(["codeType", "code", "institution", "institutionType", "status"], [
            ["sortCode", "404142", "Example Crypto, Leeds", "crypto-exchange", "active"],
            ["bic", "CRYPGB2L", "Example Crypto Ltd", "crypto-exchange", "active"],
            ["sortCode", "401001", "Example Bank", "bank", "active"],
        ])
        account_map = csv_text(["customerId", "account.iban", "account.sortCode", "account.accountNumber", "card"], [
            [CUSTOMER_IDS[0], "", linked_one.sort_code, linked_one.number, card],
            [CUSTOMER_IDS[0], linked_two.iban, "", "", ""],
        ])
        reports = csv_text(["paymentId", "reportedAt", "fraudType", "amountLost", "currency", "reportingSide",
                            "creditor.account.iban", "creditor.account.sortCode", "creditor.account.accountNumber"], [
            ["p-rep-1", rfc3339(now - dt.timedelta(hours=2)), "app_scam", "2500.00", "GBP", "sending", "",
             reported.sort_code, reported.number],
            ["p-rep-2", rfc3339(now - dt.timedelta(hours=1)), "mule", "", "", "receiving", reported_iban.iban, "", ""],
        ])
        status = csv_text(["paymentId", "status", "reasonCode", "at", "creditor.account.sortCode",
                           "creditor.account.accountNumber"], [
            ["p-rep-1", "recalled", "FRAD", rfc3339(now - dt.timedelta(minutes=30)), reported.sort_code, reported.number],
            ["p-ok-1", "settled", "", rfc3339(now - dt.timedelta(minutes=20)), "", ""],
        ])
        history_rows = [history_row(f"h-{i}", now - dt.timedelta(hours=3 + i * 5), history_debtor, acct("405100"), NAMES[i % 3])
                        for i in range(15)]
        history_rows += [history_row(f"h-x{i}", now - dt.timedelta(hours=1 + i), acct("403100"), acct("405200", iban=True),
                                     NAMES[(i + 1) % 3]) for i in range(10)]
        history = csv_text(HISTORY_HEADER, history_rows)
        good = {
            "entitlements.2026-12-05.csv.gpg": (bank.seal(entitlements), 2),
            "directory.2026-12-05.csv.gpg": (bank.seal(directory), 3),
            "account-map.2026-12-05.csv.gpg": (bank.seal(account_map), 2),
            "fraud-reports.v1.2026-12-05.csv.gpg": (bank.seal(reports), 2),
            "status.2026-12-05.csv.gpg": (bank.seal(status), 2),
            "history.2026-12-05.csv.gpg": (bank.seal(history), 25),
        }
        upload.put({name: content for name, (content, _) in good.items()})
        loaded = wait_final(vigil, data, tenant, [sha256(content) for content, _ in good.values()], server)
        for name, (content, rows) in good.items():
            r = loaded[sha256(content)]
            c.check(r["status"] == "loaded" and r["rows"] == rows and r["accepted"] == rows and r["rejected"] == 0,
                    f"{name}: {r['status']} rows {r['rows']} accepted {r['accepted']} (expected loaded, {rows}): {r.get('reason')}")
            c.check(r["signer"] == bank.fingerprint and r["scan"] == "clean", f"{name}: signer {r.get('signer')} scan {r.get('scan')}")
            c.check(not os.path.exists(os.path.join(data, "inbox", tenant, name)), f"{name} is still in the inbox")
            c.check(os.path.isfile(os.path.join(data, "outbox", tenant, name + ".summary.json")), f"{name}: no outbox summary")
        table = c.run_cli(vigil, ["files", "list", "--tenant", tenant, "--data-dir", data]).stdout.decode().splitlines()
        c.check(table[0].split("\t")[:4] == ["id", "tenant", "type", "status"], f"vigil files list header: {table[0]!r}")
        for name, (content, rows) in good.items():
            line = next((ln.split("\t") for ln in table if ln.startswith(sha256(content) + "\t")), None)
            c.check(line is not None and line[3] == "loaded" and line[4] == str(rows) and line[7] == name,
                    f"vigil files list shows {line!r} for {name}")
        c.log("each file type (entitlements, directory, account-map, fraud-reports, status, history) loaded over sftp, "
              "clamd clean, signed by the bank's key")

        # -- their effect on scoring ---------------------------------------------------------------------------
        denied = pay("outside-entitlements", outside, acct("405002"), expect=403)["resp"]
        c.check(denied.media_type == "application/problem+json" and denied.json().get("type") == "urn:vigil:problem:not-entitled",
                f"outside the entitlements: {denied.header('Content-Type')} {denied.body[:300]!r}")
        c.check(outside.number.encode() not in denied.body, "the not-entitled answer echoes the account number")
        pay("inside-entitlements", payer, acct("405003"))
        pay("after-directory", payer, dir_creditor)
        pay("after-report", payer, reported)
        pay("after-report-iban", payer, reported_iban)
        pay("linked-1a", linked_one, acct("405004"))
        pay("linked-1b", linked_one, acct("405005"))
        pay("linked-2", linked_two, acct("405006"))
        pay("history-probe", history_debtor, acct("405007"))
        c.log("entitlements: outside 403 not-entitled, inside 200")

        # -- refused, rejected, quarantined, duplicate -----------------------------------------------------------
        dir_header = ["codeType", "code", "institution", "institutionType", "status"]

        def dir_rows(n: int, base: int) -> list[list[str]]:
            return [["sortCode", f"{base + i:06d}", f"Bank {base + i}", "bank", "active"] for i in range(n)]

        bad_value = "zebedee-canary-kind"
        over = dir_rows(10, 410000)
        for i in (2, 5, 7):
            over[i][3] = bad_value
        under = dir_rows(200, 420000)
        under[36][3] = bad_value                   # row 38 counting the header as 1
        under_rows_ok = 199
        truncated = csv_text(dir_header, dir_rows(3, 430000))[:-1]
        mixed = csv_text(dir_header, dir_rows(1, 440000)) + csv_text(dir_header, dir_rows(2, 440010), "\r\n").split(b"\r\n", 1)[1]
        bad_files = {
            "directory.over-threshold.csv.gpg": (bank.seal(csv_text(dir_header, over)), "rejected", "error threshold"),
            "directory.wrong-header.csv.gpg": (bank.seal(csv_text(["codeType", "code", "institutionName", "institutionType", "status"],
                                                                  dir_rows(2, 450000))), "refused", "institutionName"),
            "directory.mixed-endings.csv.gpg": (bank.seal(mixed), "refused", "line ending"),
            "directory.bom.csv.gpg": (bank.seal(b"\xef\xbb\xbf" + csv_text(dir_header, dir_rows(2, 460000))), "refused", "byte-order mark"),
            "directory.truncated.csv.gpg": (bank.seal(truncated), "refused", "truncated"),
            "directory.empty.csv.gpg": (bank.seal(b""), "refused", "no rows"),
            "directory.zero-bytes.csv.gpg": (b"", "refused", "the file is empty (0 bytes)"),
            "directory.header-only.csv.gpg": (bank.seal(csv_text(dir_header, [])), "refused", "no rows"),
            "directory.under-threshold.csv.gpg": (bank.seal(csv_text(dir_header, under)), "loaded", None),
            "fraud-reports.other-signer.csv.gpg": (other.seal(reports + b"p-x,2026-12-01T00:00:00Z,mule,,,,,,\n"),
                                                   "refused", bank.fingerprint),
            "status.plain.csv": (status + b"p-ok-2,settled,,2026-12-01T00:00:00Z,,\n", "refused", "not an OpenPGP encrypted message"),
            "history.eicar.csv.gpg": (EICAR, "quarantined", "Eicar-Test-Signature"),
        }
        # The same bytes again: a duplicate, nothing changes (the history would count its rows twice otherwise).
        duplicate_of = good["history.2026-12-05.csv.gpg"][0]
        upload.put({name: content for name, (content, _, _) in bad_files.items()})
        results = wait_final(vigil, data, tenant, [sha256(content) for content, _, _ in bad_files.values()], server)
        for name, (content, expected, words) in bad_files.items():
            r = results[sha256(content)]
            c.check(r["status"] == expected, f"{name}: {r['status']} ({r.get('reason')}), expected {expected}")
            if words:
                text = (r.get("reason") or "") + (r.get("signature") or "")
                c.check(words.lower() in text.lower(), f"{name}: the reason does not say {words!r}: {text!r}")
        eicar_id = sha256(EICAR)
        c.check(results[eicar_id]["scan"] == "infected" and results[eicar_id]["signature"].startswith("Eicar-Test-Signature"),
                f"the EICAR file: scan {results[eicar_id]['scan']}, signature {results[eicar_id].get('signature')!r}")
        quarantined = os.path.join(data, "quarantine", tenant, eicar_id)
        c.check(os.path.isfile(quarantined) and open(quarantined, "rb").read() == EICAR,
                f"the EICAR file is not in {quarantined} as received")
        over_r = results[sha256(bad_files["directory.over-threshold.csv.gpg"][0])]
        c.check(over_r["rows"] == 10 and over_r["rejected"] == 3, f"over the threshold: {over_r['rows']} rows {over_r['rejected']} rejected")
        under_r = results[sha256(bad_files["directory.under-threshold.csv.gpg"][0])]
        c.check(under_r["accepted"] == under_rows_ok and under_r["rejected"] == 1,
                f"under the threshold: accepted {under_r['accepted']} rejected {under_r['rejected']}")
        errors_csv = os.path.join(data, "outbox", tenant, "directory.under-threshold.csv.gpg.errors.csv")
        c.check(os.path.isfile(errors_csv), f"no error report {errors_csv}")
        report = open(errors_csv, "rb").read()
        c.check(re.search(rb"^38,institutionType,", report, re.M) is not None, f"the error report does not name row 38, institutionType: {report!r}")
        c.check(bad_value.encode() not in report, "the error report holds the bad cell's value")
        for path in (errors_csv, os.path.join(data, "file-metadata", tenant, under_r["id"] + ".json")):
            c.check(bad_value.encode() not in open(path, "rb").read(), f"{path} holds the bad cell's value")
        c.log("EICAR quarantined; another signer, a plain file, a wrong header, mixed line endings, a BOM, a truncated "
              "last line, an empty and a header-only file refused; over the threshold rejected; under it loaded with "
              "an error report naming row 38, institutionType, without the value")

        upload.put({"history.2026-12-05.csv.gpg": duplicate_of})
        dup_id = sha256(duplicate_of)
        deadline = time.monotonic() + 60
        while True:
            dups = [r for r in files_list(vigil, data, tenant) if r.get("duplicateOf") == dup_id]
            if dups and dups[0]["status"] == "duplicate":
                break
            c.check(time.monotonic() < deadline, "the re-uploaded history file was not recorded as a duplicate")
            time.sleep(0.2)
        c.check(dups[0]["id"] == f"{dup_id}-2", f"the duplicate's id is {dups[0]['id']}")
        pay("history-probe-after-duplicate", history_debtor, acct("405008"))
        pay("after-report-after-duplicate", payer, reported)
        c.log("the same history file again: recorded as duplicate ID-2")

        # -- over HTTPS-less HTTP: POST /v1/files ------------------------------------------------------------------
        posted = bank.seal(csv_text(dir_header, dir_rows(4, 470000)))
        resp = c.request(server.port, "POST", "/v1/files?name=directory.http.csv.gpg", body=posted,
                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"})
        c.check(resp.status == 202, f"POST /v1/files: {resp.status} {resp.body[:300]!r}")
        c.check(resp.json()["id"] == sha256(posted) and resp.header("Location") == f"/v1/files/{sha256(posted)}",
                f"POST /v1/files: {resp.body[:300]!r} Location {resp.header('Location')}")
        deadline = time.monotonic() + 60
        while True:
            got = c.request(server.port, "GET", f"/v1/files/{sha256(posted)}", headers={"Authorization": f"Bearer {key}"})
            c.check(got.status == 200, f"GET /v1/files/ID: {got.status} {got.body[:300]!r}")
            if got.json()["status"] in FINAL:
                break
            c.check(time.monotonic() < deadline, "the file posted over HTTP did not finish")
            time.sleep(0.2)
        c.check(got.json()["status"] == "loaded" and got.json()["accepted"] == 4, f"GET /v1/files/ID: {got.body[:300]!r}")
        c.log("POST /v1/files: 202, and GET /v1/files/ID shows it loaded")

        # -- kill -9 in the middle of a large history file's load ------------------------------------------------
        probe_debtor = acct("402001")
        big_rows = []
        probe_positions = set(rng.sample(range(BIG_ROWS), PROBE_ROWS))
        others = [acct("403200") for _ in range(500)]
        creditors = [acct("405300") for _ in range(50)]
        for i in range(BIG_ROWS):
            debtor = probe_debtor if i in probe_positions else others[i % len(others)]
            at = now - dt.timedelta(hours=100) + dt.timedelta(seconds=(i * 97) % (90 * 3600))
            big_rows.append(history_row(f"big-{i}", at, debtor, creditors[i % len(creditors)], NAMES[i % 3], f"{10 + i % 90}.00"))
        big = bank.seal(csv_text(HISTORY_HEADER, big_rows))
        big_id = sha256(big)
        c.log(f"large history file: {BIG_ROWS} rows, {len(big)} bytes encrypted")
        before = metric_sum(server.port, "vigil_event_log_batch_records_sum")
        upload.put({"history.large.csv.gpg": big})
        deadline = time.monotonic() + 180
        while True:
            record = {r["id"]: r for r in files_list(vigil, data, tenant)}.get(big_id)
            status = record["status"] if record else "absent"
            c.check(status not in FINAL, f"the large file finished ({status}) before it could be killed mid-load; make it larger")
            logged = metric_sum(server.port, "vigil_event_log_batch_records_sum") - before
            if status == "loading" and logged > 0:
                break
            c.check(time.monotonic() < deadline, f"the large file never started loading (status {status})")
            time.sleep(0.05)
        server.kill()
        c.check(logged < BIG_ROWS, f"the log held {logged:.0f} records of {BIG_ROWS} at the kill: not mid-load")
        killed = {r["id"]: r for r in files_list(vigil, data, tenant)}[big_id]
        c.check(killed["status"] == "loading", f"after the kill the large file's record is {killed['status']}, not loading")
        c.check(os.path.isfile(os.path.join(data, "inbox", tenant, "history.large.csv.gpg")),
                "after the kill the large file is no longer in the inbox: nothing could resume it")
        c.log(f"kill -9 while the large file was loading ({logged:.0f} of {BIG_ROWS} records logged)")

        server = c.Server(vigil, data, extra_args=intake_flags, env=serve_env, name="serve-2",
                          stdout_path=os.path.join(logs, "serve.stdout"), stderr_path=os.path.join(logs, "serve.stderr"))
        server.start()
        server.wait_ready(timeout=120)
        finished = wait_final(vigil, data, tenant, [big_id], server, timeout=300)[big_id]
        c.check(finished["status"] == "loaded" and finished["accepted"] == BIG_ROWS,
                f"after the restart the large file is {finished['status']} with {finished['accepted']} rows ({finished.get('reason')})")
        pay("big-probe", probe_debtor, acct("405009"))
        c.log("after the restart the large file finished loading")

        c.check(server.terminate() == 0, "vigil serve did not stop cleanly on SIGTERM")
        server = None
    finally:
        if server is not None:
            server.kill()
        if sftp_started:
            subprocess.run([SFTP_SERVER, "stop", data], capture_output=True, timeout=60)
        for b in banks:
            b.stop()
        subprocess.run(["gpgconf", "--homedir", os.path.join(data, "intake", "gnupg"), "--kill", "all"],
                       capture_output=True, timeout=30)
        if clamd_env:
            subprocess.run([TEST_SERVERS, "stop"], env=clamd_env, capture_output=True, timeout=60)

    # -- what the features say ----------------------------------------------------------------------------------
    names = [line.split("\t")[0] for line in c.run_cli(vigil, ["features", "list"]).stdout.decode().splitlines()]
    export = c.run_cli(vigil, ["events", "export", "--data-dir", data], timeout=120)
    scored, intake = {}, []
    for line in export.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("kind") == "intake":
            intake.append(rec)
        elif "kind" not in rec:
            scored[rec["paymentId"]] = dict(zip(names, rec["features"]))

    def feature(label: str, name: str):
        c.check(probes[label] in scored, f"the payment {label} is not in the event log")
        return scored[probes[label]][name]

    c.check(feature("before-directory", "creditor.institution_type") is None, "creditor.institution_type before the directory")
    c.check(feature("after-directory", "creditor.institution_type") == 5,
            f"creditor.institution_type after the directory: {feature('after-directory', 'creditor.institution_type')} (5 = crypto exchange)")
    c.check(feature("before-report", "creditor.reported_fraud_count_90d") == 0, "reported_fraud_count_90d before the report")
    for label in ("after-report", "after-report-after-duplicate"):
        # The fraud report and the FRAD recall of the same payment and account count once.
        c.check(feature(label, "creditor.reported_fraud_count_90d") == 1,
                f"{label}: creditor.reported_fraud_count_90d {feature(label, 'creditor.reported_fraud_count_90d')}, expected 1")
    c.check(feature("after-report-iban", "creditor.reported_fraud_count_90d") == 1, "a creditor reported by IBAN")
    c.check(feature("linked-2", "customer.count_24h") == 2 and feature("linked-2", "customer.linked_accounts") == 2,
            f"customer.count_24h {feature('linked-2', 'customer.count_24h')}, linked_accounts "
            f"{feature('linked-2', 'customer.linked_accounts')}: the other linked account's 2 payments should count")
    c.check(feature("history-probe", "debtor.count_7d") == 15, f"debtor.count_7d after the history: {feature('history-probe', 'debtor.count_7d')}")
    c.check(feature("history-probe-after-duplicate", "debtor.count_7d") == 16,
            f"debtor.count_7d after the duplicate: {feature('history-probe-after-duplicate', 'debtor.count_7d')} (15 rows + 1 probe)")
    c.check(feature("big-probe", "debtor.count_7d") == PROBE_ROWS,
            f"debtor.count_7d after the killed and resumed load: {feature('big-probe', 'debtor.count_7d')}, the file holds {PROBE_ROWS}")
    big_records = [(r["row"]) for r in intake if r["fileId"] == big_id]
    c.check(len(big_records) == BIG_ROWS and len(set(big_records)) == BIG_ROWS,
            f"the large file's intake records: {len(big_records)}, {len(set(big_records))} distinct rows, expected {BIG_ROWS}")
    per_file: dict[str, int] = {}
    for r in intake:
        per_file[r["fileId"]] = per_file.get(r["fileId"], 0) + 1
    for name, (content, expected, _) in bad_files.items():
        want = under_rows_ok if expected == "loaded" else 0
        c.check(per_file.get(sha256(content), 0) == want,
                f"{name} ({expected}) has {per_file.get(sha256(content), 0)} intake records in the log, expected {want}")
    c.check(per_file.get(sha256(good["history.2026-12-05.csv.gpg"][0])) == 25,
            "the history file sent twice should have its 25 rows in the log once")
    c.check(per_file.get(sha256(good["entitlements.2026-12-05.csv.gpg"][0])) == 1, "an entitlements file is one record")
    keys = [(r["tenant"], r["fileId"], r["row"]) for r in intake]
    c.check(len(keys) == len(set(keys)), "an intake record is in the log twice")
    c.log("features: institution type 5 after the directory, reported count 1 after the reports (and after the "
          "duplicate), customer.count_24h 2 over linked accounts, debtor.count_7d 15/16 after the history and its "
          f"duplicate, {PROBE_ROWS} after the killed load; intake records unique per (file, row), none from a refused, "
          "rejected, quarantined or duplicate file")

    # -- PII canaries -------------------------------------------------------------------------------------------
    targets = [("name", n) for n in NAMES] + [("customerId", x) for x in CUSTOMER_IDS]
    targets += [("iban", a.iban) for a in accounts if a.iban]
    # Digits are searched standing alone, not inside a longer number or a hex token: 120,000 rows of epoch
    # milliseconds and as many ciphertexts hold almost every 8-digit string somewhere.
    numbers = [card] + [a.number for a in accounts]
    # Event-log segments are zeroed when made: their unwritten tails hold nothing to find.
    sources = [(label, blob.rstrip(b"\0")) for label, blob in pii_canary.data_dir_sources(data)]
    for name in ("serve.stdout", "serve.stderr"):
        sources.append((name, open(os.path.join(logs, name), "rb").read()))
    sources += [("events export", export.stdout), ("events export stderr", export.stderr)]
    c.check(any(b"Daily file processed" in d for _, d in sources), "the server logs hold no intake line to search")
    wanted = {n.encode() for n in numbers}

    def canary_hits(where: list[tuple[str, bytes]]) -> list[str]:
        hits = pii_canary.search(where, targets)
        for label, blob in where:
            first: dict[bytes, int] = {}
            for m in re.finditer(rb"(?<![0-9A-Za-z])[0-9]{8,19}(?![0-9A-Za-z])", blob):
                if m.group(0) in wanted:
                    first.setdefault(m.group(0), m.start())
            hits += [f"{label} @ offset {at}: number canary {n.decode()!r}" for n, at in first.items()]
        return hits

    # The search finds every kind of canary in the files as the bank wrote them.
    plain = canary_hits([("plaintext", history + account_map + reports)])
    for kind in ("name canary", "customerId canary", "iban canary", f"number canary '{card}'",
                 f"number canary '{linked_one.number}'"):
        c.check(any(kind in hit for hit in plain), f"self-check: the search finds no {kind} in the plaintext files")
    hits = canary_hits(sources)
    c.check(not hits, f"{len(hits)} canary hit(s):\n  " + "\n  ".join(hits[:20]))
    c.log(f"no canary ({len(targets) + len(numbers)}: names, customer ids, IBANs, a card, account numbers) in "
          f"{len(sources)} sources")


def options(parser) -> None:
    parser.add_argument("--prefix", default="/srv/vigil-e2e-",
                        help="where the data directory is made (a root-owned path, not under /tmp: the sshd chroot)")


if __name__ == "__main__":
    c.run_main("intake_e2e", __doc__, main, time_limit=900, options=options)
