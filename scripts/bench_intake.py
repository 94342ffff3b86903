#!/usr/bin/env python3
"""The daily-file intake's throughput (issue 13 §4), in one run: rows per second through the whole pipeline against
plain `vigil features export` on the same rows.

    swift build -c release --product vigil
    scripts/test-servers start clamd     # for --clamd (or give any clamd socket)
    nice python3 scripts/bench_intake.py --vigil .build/release/vigil [--payments 1000000] [--clamd SOCKET]

1. A `vigil simulate` history of --payments rows (not timed).
2. `vigil features export` over it: the offline replay (parse, validate, tokenise, features), timed by wall clock.
3. The pipeline, once per configuration: `plain` (intakeScan off, intakePGP off, the embedded defaults) and, with
   --clamd, `clamd+gpg` (scanned by clamd over INSTREAM, decrypted and verified by gpg from a file encrypted to Vigil's
   intake key and signed by the bank's key; encrypting is not timed). The file is put in a fresh server's inbox and
   the figure is rows over the file's own timings in its metadata (`startedAt` to `finishedAt`: settle excluded;
   scan, decrypt, parse, validate, tokenise, fold into the state, log durably, progress, report).

It prints a Markdown table and the command that produced it. Everything runs on loopback in a temporary directory
(the GNUPGHOMEs included) and is stopped by PID at the end. Nothing here asserts a figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "blackbox"))

import common as c  # noqa: E402

TENANT = "bench-bank"


def run(args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(args, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(args)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


def files(vigil: str, data: str) -> list[dict]:
    return [json.loads(line) for line in run([vigil, "files", "list", "--json", "--data-dir", data]).splitlines() if line.strip()]


def pipeline(vigil: str, work: str, history: str, rows: int, name: str, clamd: str | None) -> dict:
    data = os.path.join(work, "data-" + name)
    args = ["--intake-scan", "clamd:" + clamd if clamd else "off", "--intake-pgp", "gpg" if clamd else "off"]
    env = dict(os.environ, VIGIL_INTAKE_SETTLE_MS="200")
    c.init_data_dir(vigil, data)
    c.create_tenant(vigil, data, TENANT)
    upload = history
    file_name = "history.2026-12-04.csv"
    if clamd:
        bank = os.path.join(work, "bank-gnupg")
        os.makedirs(bank, mode=0o700, exist_ok=True)
        gpg = ["gpg", "--homedir", bank, "--batch", "--quiet"]
        run(gpg + ["--passphrase", "", "--quick-gen-key", "Bench Bank <bank@bench.invalid>", "ed25519", "sign,cert", "never"])
        key = os.path.join(work, "bank.asc")
        with open(key, "wb") as out:
            out.write(run(gpg + ["--armor", "--export", "bank@bench.invalid"]))
        c.run_cli(vigil, ["tenant", "pgp-key", TENANT, key, "--intake-pgp", "gpg", "--data-dir", data])
        intake_key = c.run_cli(vigil, ["intake", "key", "--intake-pgp", "gpg", "--data-dir", data]).stdout
        run(gpg + ["--import"], stdin=intake_key)
        upload = os.path.join(work, file_name + ".gpg")
        run(gpg + ["--trust-model", "always", "--recipient", "intake@vigil.invalid", "--local-user", "bank@bench.invalid",
                   "--sign", "--encrypt", "--output", upload, history])
        file_name += ".gpg"
        run(["gpgconf", "--homedir", bank, "--kill", "all"])
    server = c.Server(vigil, data, extra_args=args, env=env).start()
    try:
        server.wait_ready()
        inbox = os.path.join(data, "inbox", TENANT)
        os.makedirs(inbox, exist_ok=True)
        staging = os.path.join(data, "inbox", TENANT, "." + file_name)
        shutil.copyfile(upload, staging)
        os.rename(staging, os.path.join(inbox, file_name))
        deadline = time.time() + 3600
        while time.time() < deadline:
            records = [r for r in files(vigil, data) if r.get("name") == file_name]
            if records and records[0].get("status") not in ("received", "scanning", "loading", "retrying"):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"{name}: the file did not finish within an hour")
        record = records[0]
        if record["status"] != "loaded" or record["accepted"] != rows:
            raise SystemExit(f"{name}: the file ended {record['status']} with {record['accepted']} of {rows} rows: {record.get('reason')}")
        seconds = (record["finishedAt"] - record["startedAt"]) / 1000
        return {"name": name, "seconds": seconds, "rows": rows, "bytes": record["bytes"]}
    finally:
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vigil", default=os.path.join(ROOT, ".build", "release", "vigil"))
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--clamd", help="clamd's socket; adds the clamd+gpg configuration")
    args = parser.parse_args()
    vigil = os.path.abspath(args.vigil)
    work = tempfile.mkdtemp(prefix="vigil-bench-intake-")
    try:
        run([vigil, "simulate", "--seed", "7", "--payments", str(args.payments), "--days", "90", "--out", os.path.join(work, "sim")])
        history = os.path.join(work, "sim", "history.csv")
        with open(history, "rb") as f:
            rows = sum(1 for _ in f) - 1

        started = time.monotonic()
        run([vigil, "features", "export", "--history", history, "--out", os.path.join(work, "features.csv")])
        baseline = time.monotonic() - started

        results = [pipeline(vigil, work, history, rows, "plain", None)]
        if args.clamd:
            results.append(pipeline(vigil, work, history, rows, "clamd+gpg", args.clamd))

        command = "python3 scripts/bench_intake.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        print(f"## Daily-file intake: {rows:,} history rows ({os.path.getsize(history) / 1e6:.0f} MB)\n")
        print("| path | seconds | rows/s | vs `vigil features export` |")
        print("|---|---:|---:|---:|")
        print(f"| `vigil features export` (parse, validate, tokenise, features; writes the CSV) | {baseline:.1f} | {rows / baseline:,.0f} | 1.00 |")
        for result in results:
            rate = rows / result["seconds"]
            print(f"| pipeline, {result['name']} (startedAt → finishedAt) | {result['seconds']:.1f} | {rate:,.0f} | {baseline / result['seconds']:.2f} |")
        print(f"\n`{command}` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
