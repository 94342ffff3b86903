#!/usr/bin/env python3
"""Black-box durability test: every acknowledged score survives kill -9.

    python3 Tests/blackbox/crash_recovery.py --vigil .build/debug/vigil

Starts `vigil serve` (default durability: fsync) on an empty temp data dir;
8 threads post distinct, realistic payments over keep-alive connections as
fast as they can, recording each paymentId answered 200 with its scoreId.
After >= 3 s and a few hundred acknowledgements the server is killed with
SIGKILL while requests are in flight.  It is restarted on the same data dir;
once GET /ready is 200, `vigil events export` must contain every acknowledged
payment exactly once with the acknowledged scoreId (and nothing we did not
send, and no paymentId twice).  Finally every acknowledged payment is retried
with the same body and must come back 200 with duplicate=true and the
original scoreId.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

SCORE = "/v1/payments/score"
THREADS = 8
MIN_RUN_SECONDS = 3.0
TARGET_ACKS = 300
MIN_ACKS = 100
MAX_LOAD_SECONDS = 15.0

FIRST_NAMES = ["Olivia", "Amelia", "Isla", "Noah", "Oliver", "Arthur", "Lukas", "Sofia", "Mateo", "Ana", "Priya",
               "Arjun", "Chen", "Fatima", "Kwame", "Sanne", "Lars", "Chloé", "Giulia", "João"]
LAST_NAMES = ["Smith", "Jones", "Müller", "Dubois", "de Vries", "García", "Rossi", "Silva", "Sharma", "Okafor",
              "Nowak", "O'Brien", "Andersen", "Kowalski", "Santos", "Patel"]
BANK_BICS = {"GB": ["NWBKGB2L", "BARCGB22", "LOYDGB2L", "HBUKGB4B", "MONZGB2L"],
             "EU": ["DEUTDEFF", "BNPAFRPP", "INGBNL2A", "BSCHESMM", "UNCRITMM"],
             "BR": ["00000000", "60701190", "00360305"], "IN": ["HDFC0000001", "ICIC0000002", "SBIN0000003"],
             "US": ["021000021", "026009593", "121000358"]}
CHANNELS = ["mobile", "web", "api", "branch"]


class PaymentFactory:
    """Realistic, varied payments; each call returns (paymentId, body bytes)."""

    def __init__(self, seed: int, thread_no: int) -> None:
        self.rng = random.Random(seed)
        self.thread_no = thread_no
        self.n = 0
        run = f"{seed & 0xffffff:06x}"
        self.prefix = f"cr{run}-t{thread_no}"

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def _amount(self, decimals: int) -> str:
        major = min(int(self.rng.lognormvariate(4.0, 1.6)), 10**9)
        if decimals == 0 or self.rng.random() < 0.15:
            return str(max(major, 1))
        minor = self.rng.randrange(10**decimals)
        if major == 0 and minor == 0:
            minor = 1
        return f"{major}.{minor:0{decimals}d}"

    def _party(self, region: str) -> dict:
        rng = self.rng
        if region == "GB":
            if rng.random() < 0.5:
                account: dict = {"sortCode": f"{rng.randrange(10**6):06d}", "accountNumber": f"{rng.randrange(10**8):08d}"}
            else:
                account = {"iban": c.random_gb_iban(rng)}
        elif region == "EU":
            account = {"iban": c.random_eu_iban(rng)}
        elif region == "BR":
            kind = rng.random()
            if kind < 0.4:
                pix = f"+55{rng.randrange(11, 99)}9{rng.randrange(10**8):08d}"
            elif kind < 0.7:
                pix = f"{rng.choice(FIRST_NAMES).lower()}.{rng.randrange(10**4)}@mail.example"
            else:
                pix = f"{rng.getrandbits(128):032x}"
            account = {"scheme": "PIX", "id": pix}
        elif region == "IN":
            account = {"scheme": "UPI", "id": f"{rng.choice(FIRST_NAMES).lower()}{rng.randrange(10**4)}@ok{rng.choice(['axis', 'hdfc', 'sbi'])}"}
        else:  # US
            account = {"scheme": "USABA", "id": f"{rng.choice(BANK_BICS['US'])}:{rng.randrange(10**10):010d}"}
        party: dict = {"account": account}
        if rng.random() < 0.7:
            party["name"] = self._name()
        if rng.random() < 0.6:
            party["agent"] = rng.choice(BANK_BICS[region])
        return party

    def next(self) -> tuple[str, bytes]:
        rng = self.rng
        self.n += 1
        pid = f"{self.prefix}-{self.n:06d}"
        region, scheme, currency, decimals = rng.choice([
            ("GB", "FPS", "GBP", 2), ("GB", "FPS", "GBP", 2), ("EU", "SEPA_INST", "EUR", 2), ("EU", "SEPA_INST", "EUR", 2),
            ("BR", "PIX", "BRL", 2), ("IN", "UPI", "INR", 2), ("US", "FEDNOW", "USD", 2), ("US", "RTP", "USD", 2)])
        body: dict[str, Any] = {
            "paymentId": pid,
            "perspective": rng.choice(["sending", "sending", "receiving"]),
            "type": "push" if rng.random() < 0.9 else "pull",
            "scheme": scheme,
            "amount": self._amount(decimals),
            "currency": currency,
            "createdAt": c.rfc3339_now(-rng.uniform(0, 5)),
            "debtor": self._party(region),
            "creditor": self._party(region),
        }
        if rng.random() < 0.8:
            body["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.6:
            payee: dict = {}
            if rng.random() < 0.7:
                payee["firstSeenAt"] = c.rfc3339_now(-rng.uniform(0, 86400 * 400))
            if rng.random() < 0.7:
                payee["confirmationOfPayee"] = rng.choice(["match", "close_match", "no_match", "unavailable"])
            body["payee"] = payee
        if rng.random() < 0.7:
            device: dict = {}
            if rng.random() < 0.8:
                device["id"] = f"dev-{rng.getrandbits(48):012x}"
            if rng.random() < 0.8:
                device["ip"] = (f"198.51.100.{rng.randrange(1, 255)}" if rng.random() < 0.7
                                else f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}")
            body["device"] = device
        if rng.random() < 0.6:
            body["reference"] = rng.choice(["Rent", "Invoice", "Dinner", "Order", "Loan repayment", "Gift"]) + \
                f" {rng.randrange(10**5)}"
        return pid, json.dumps(body).encode("utf-8")


class LoadState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}          # paymentId -> scoreId
        self.acked_body: dict[str, bytes] = {}
        self.acked_resp: dict[str, dict] = {}
        self.sent: set[str] = set()               # every paymentId whose request we started to send
        self.in_flight_at_kill: set[str] = set()  # request started, no complete response (error after kill)
        self.unexpected: list[str] = []           # non-200 / transport errors before the kill
        self.stop = threading.Event()
        self.killing = threading.Event()


def load_worker(port: int, key: str, factory: PaymentFactory, state: LoadState) -> None:
    client = c.KeepAliveClient(port, key, timeout=10.0)
    try:
        while not state.stop.is_set():
            pid, body = factory.next()
            with state.lock:
                state.sent.add(pid)
            try:
                status, data = client.post_json(SCORE, body)
            except Exception as exc:  # noqa: BLE001 - transport error
                with state.lock:
                    if state.killing.is_set():
                        state.in_flight_at_kill.add(pid)
                    else:
                        state.unexpected.append(f"{pid}: transport error before kill: {exc!r}")
                client.close()
                if state.killing.is_set():
                    return
                client = c.KeepAliveClient(port, key, timeout=10.0)
                continue
            if status == 200:
                try:
                    resp = json.loads(data)
                    score_id = resp["scoreId"]
                except (ValueError, KeyError, TypeError) as exc:
                    with state.lock:
                        state.unexpected.append(f"{pid}: 200 with unusable body ({exc!r}): {data[:200]!r}")
                    continue
                with state.lock:
                    state.acked[pid] = score_id
                    state.acked_body[pid] = body
                    state.acked_resp[pid] = resp
            else:
                with state.lock:
                    state.unexpected.append(f"{pid}: HTTP {status}: {data[:300]!r}")
    finally:
        client.close()


def retry_worker(port: int, key: str, items: list[str], state: LoadState, errors: list[str], lock: threading.Lock,
                 counter: list[int]) -> None:
    client = c.KeepAliveClient(port, key, timeout=10.0)
    try:
        for pid in items:
            try:
                status, data = client.post_json(SCORE, state.acked_body[pid])
            except Exception as exc:  # noqa: BLE001
                client.close()
                client = c.KeepAliveClient(port, key, timeout=10.0)
                with lock:
                    errors.append(f"{pid}: retry transport error {exc!r}")
                continue
            problem = None
            if status != 200:
                problem = f"HTTP {status}: {data[:200]!r}"
            else:
                try:
                    resp = json.loads(data)
                except ValueError:
                    resp = None
                original = state.acked_resp[pid]
                if not isinstance(resp, dict):
                    problem = f"body is not a JSON object: {data[:200]!r}"
                elif resp.get("duplicate") is not True:
                    problem = f"duplicate={resp.get('duplicate')!r}, expected true"
                elif resp.get("scoreId") != original["scoreId"]:
                    problem = f"scoreId {resp.get('scoreId')!r} != acknowledged {original['scoreId']!r}"
                elif (resp.get("score"), resp.get("decision")) != (original.get("score"), original.get("decision")):
                    problem = (f"score/decision {resp.get('score')!r}/{resp.get('decision')!r} != acknowledged "
                               f"{original.get('score')!r}/{original.get('decision')!r}")
            with lock:
                counter[0] += 1
                if problem:
                    errors.append(f"{pid}: {problem}")
    finally:
        client.close()


def run(args: Any) -> None:
    data_dir = c.make_temp_dir("vigil-crash-")
    server = c.Server(args.vigil, data_dir, name="crash")
    server.start()
    server.wait_ready()
    key = c.read_demo_key(data_dir)
    c.log(f"server pid {server.pid} on port {server.port}, data dir {data_dir}")

    # -- load ------------------------------------------------------------------
    state = LoadState()
    seed = random.SystemRandom().getrandbits(32)
    c.log(f"load: {THREADS} threads, seed {seed}")
    workers = [threading.Thread(target=load_worker, args=(server.port, key, PaymentFactory(seed + i, i), state),
                                daemon=True) for i in range(THREADS)]
    started = time.monotonic()
    for w in workers:
        w.start()
    while True:
        time.sleep(0.05)
        elapsed = time.monotonic() - started
        with state.lock:
            acks = len(state.acked)
            unexpected = len(state.unexpected)
        if unexpected:
            break
        if not server.running():
            break
        if elapsed >= MIN_RUN_SECONDS and acks >= TARGET_ACKS:
            break
        if elapsed >= MAX_LOAD_SECONDS:
            break

    if not server.running():
        state.stop.set()
        c.fail(f"server exited during load (status {server.proc.returncode})\n{server.output_tail()}")
    if unexpected:
        state.stop.set()
        server.kill()
        for w in workers:
            w.join(5)
        c.fail("unexpected responses during load (before the kill):\n  " + "\n  ".join(state.unexpected[:10]))

    # -- kill -9 mid-stream ----------------------------------------------------
    state.killing.set()
    server.kill()  # SIGKILL by pid, while workers are sending
    killed_at = time.monotonic()
    state.stop.set()
    for w in workers:
        w.join(15)
    c.check(not any(w.is_alive() for w in workers), "load threads did not stop after the kill")
    with state.lock:
        acked = dict(state.acked)
        in_flight = set(state.in_flight_at_kill) - set(acked)
        sent = set(state.sent)
        unexpected_list = list(state.unexpected)
    load_seconds = killed_at - started
    c.log(f"killed after {load_seconds:.1f}s: acknowledged {len(acked)} "
          f"({len(acked) / max(load_seconds, 0.001):.0f}/s), in flight at kill {len(in_flight)}")
    if unexpected_list:
        c.fail("unexpected responses before the kill:\n  " + "\n  ".join(unexpected_list[:10]))
    c.check(len(acked) >= MIN_ACKS,
            f"only {len(acked)} payments acknowledged in {load_seconds:.1f}s (need >= {MIN_ACKS}; target {TARGET_ACKS})")
    if len(acked) < TARGET_ACKS:
        c.log(f"  note: fewer than {TARGET_ACKS} acknowledgements before the {MAX_LOAD_SECONDS:.0f}s cap")

    # -- restart and recover -----------------------------------------------------
    server.start()
    recovery = server.wait_ready()
    c.log(f"restarted (pid {server.pid}, port {server.port}); ready after {recovery:.2f}s")

    records, raw, _ = c.export_events(args.vigil, data_dir, timeout=30.0)
    by_pid: dict[str, list[dict]] = {}
    sequences: dict[int, int] = {}
    for rec in records:
        by_pid.setdefault(rec["paymentId"], []).append(rec)
        sequences[rec["sequence"]] = sequences.get(rec["sequence"], 0) + 1
    problems: list[str] = []
    dupes = {p: len(r) for p, r in by_pid.items() if len(r) > 1}
    if dupes:
        problems.append(f"{len(dupes)} paymentId(s) exported more than once, e.g. {list(dupes.items())[:5]}")
    seq_dupes = [s for s, n in sequences.items() if n > 1]
    if seq_dupes:
        problems.append(f"{len(seq_dupes)} duplicate sequence number(s), e.g. {seq_dupes[:5]}")
    missing = [p for p in acked if p not in by_pid]
    if missing:
        problems.append(f"{len(missing)} acknowledged payment(s) missing from the export, e.g. {missing[:5]}")
    wrong_score = [(p, acked[p], by_pid[p][0]["response"].get("scoreId")) for p in acked
                   if p in by_pid and by_pid[p][0]["response"].get("scoreId") != acked[p]]
    if wrong_score:
        problems.append(f"{len(wrong_score)} exported scoreId(s) differ from the acknowledged one, e.g. {wrong_score[:3]}")
    wrong_tenant = [r["paymentId"] for r in records if r["tenant"] != "demo"]
    if wrong_tenant:
        problems.append(f"{len(wrong_tenant)} record(s) for a tenant other than demo, e.g. {wrong_tenant[:3]}")
    phantom = [p for p in by_pid if p not in sent]
    if phantom:
        problems.append(f"{len(phantom)} exported paymentId(s) that were never sent, e.g. {phantom[:5]}")
    unacked_exported = [p for p in by_pid if p not in acked and p in sent]
    c.log(f"export: {len(records)} record(s), {len(by_pid)} distinct paymentId(s); "
          f"{len(acked) - len(missing)}/{len(acked)} acknowledged present; "
          f"{len(unacked_exported)} in-flight payment(s) also made it to the log")
    if problems:
        c.fail("export check failed:\n  " + "\n  ".join(problems))

    # -- retries are duplicates ----------------------------------------------------
    pids = list(acked)
    errors: list[str] = []
    lock = threading.Lock()
    counter = [0]
    chunks = [pids[i::THREADS] for i in range(THREADS)]
    retry_started = time.monotonic()
    retriers = [threading.Thread(target=retry_worker, args=(server.port, key, chunk, state, errors, lock, counter),
                                 daemon=True) for chunk in chunks]
    for t in retriers:
        t.start()
    retry_deadline = time.monotonic() + 30
    for t in retriers:
        t.join(max(0.0, retry_deadline - time.monotonic()))
    c.check(not any(t.is_alive() for t in retriers), f"retries did not finish within 30s ({counter[0]}/{len(pids)})")
    c.log(f"retried {counter[0]} acknowledged payment(s) in {time.monotonic() - retry_started:.1f}s, "
          f"{len(errors)} problem(s)")
    if errors:
        c.fail(f"{len(errors)} retry(ies) were not the original response with duplicate=true:\n  " +
               "\n  ".join(errors[:10]))

    c.check(server.running(), f"server died during retries\n{server.output_tail()}")
    code = server.terminate()
    if code != 0:
        c.log(f"  note: server exit status after SIGTERM was {code}")
    c.log(f"counts: acknowledged={len(acked)} exported={len(records)} in-flight-at-kill={len(in_flight)}")


if __name__ == "__main__":
    c.run_main("crash_recovery", __doc__, run)
