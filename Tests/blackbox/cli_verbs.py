#!/usr/bin/env python3
"""Black-box tests of the `vigil` CLI verbs and of graceful shutdown.

- `model predict` reproduces XGBoost's own probabilities (the parity fixture) to 1e-6, and names a missing
  column or a bad cell with its line.
- `features list`, `rules check` (good and bad files), `tenant create` (one stdout line; duplicates refused).
- `serve` refuses a bad config file with a clear message instead of crashing.
- SIGTERM mid-stream: the server exits 0 and every acknowledged payment is in the event log.

    python3 Tests/blackbox/cli_verbs.py --vigil .build/debug/vigil
"""
import csv
import json
import os
import signal
import threading
import time

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "VigilTreesTests", "Fixtures")


def model_predict(vigil: str, tmp: str) -> None:
    model = os.path.join(FIXTURES, "model.json")
    parity = os.path.join(FIXTURES, "parity.csv")
    cp = c.run_cli(vigil, ["model", "predict", "--model", model, "--input", parity])
    got = [float(x) for x in cp.stdout.decode().split()]
    with open(parity, newline="") as fh:
        want = [float(row["prob"]) for row in csv.DictReader(fh)]
    c.check(len(got) == len(want), f"model predict printed {len(got)} probabilities for {len(want)} rows")
    worst = max(abs(a - b) for a, b in zip(got, want))
    c.check(worst <= 1e-6, f"model predict differs from XGBoost by {worst:.3g} (limit 1e-6)")
    c.log(f"model predict: {len(got)} rows, worst |Δp| = {worst:.2e}")

    missing = os.path.join(tmp, "missing.csv")
    with open(missing, "w") as fh:
        fh.write("f0,f1\n1,2\n")
    cp = c.run_cli(vigil, ["model", "predict", "--model", model, "--input", missing], check_status=False)
    c.check(cp.returncode != 0 and b"f2" in cp.stderr, f"a missing column should be named: {cp.stderr!r}")

    bad = os.path.join(tmp, "bad.csv")
    with open(parity) as src, open(bad, "w") as dst:
        lines = src.read().splitlines()
        cells = lines[3].split(",")
        cells[5] = "oops"
        lines[3] = ",".join(cells)
        dst.write("\n".join(lines[:6]) + "\n")
    cp = c.run_cli(vigil, ["model", "predict", "--model", model, "--input", bad], check_status=False)
    c.check(cp.returncode != 0 and b"line 4" in cp.stderr and b"f5" in cp.stderr,
            f"a bad cell should be named with its line and column: {cp.stderr!r}")


def features_and_rules(vigil: str, tmp: str) -> None:
    cp = c.run_cli(vigil, ["features", "list"])
    rows = [line.split("\t") for line in cp.stdout.decode().splitlines()]
    names = [r[0] for r in rows]
    c.check(len(names) >= 30 and len(set(names)) == len(names), f"features list: {len(names)} names, some repeated")
    c.check(all(len(r) == 3 and r[1] and r[2] for r in rows), "features list rows need name, reason code, description")
    for needed in ("pair.possible_double_payment", "creditor.first_time_senders_1h", "debtor.amount_zscore"):
        c.check(needed in names, f"features list lacks {needed}")

    good = os.path.join(tmp, "good.rules")
    with open(good, "w") as fh:
        fh.write('rule "mule-burst": creditor.first_time_senders_1h >= 10 and amount > 500 -> review\n')
    cp = c.run_cli(vigil, ["rules", "check", good])
    c.check(b"1 rule(s) OK" in cp.stdout, f"rules check on a good file: {cp.stdout!r}")

    bad = os.path.join(tmp, "bad.rules")
    with open(bad, "w") as fh:
        fh.write('rule "a": amount > 1 -> review\nrule "b": creditor.nonsense > 1 -> block\n')
    cp = c.run_cli(vigil, ["rules", "check", bad], check_status=False)
    c.check(cp.returncode != 0 and b"line 2, column 11" in cp.stderr and b"creditor.nonsense" in cp.stderr,
            f"rules check should name line, column and operand: {cp.stderr!r}")


def tenants_and_config(vigil: str, tmp: str) -> None:
    data = os.path.join(tmp, "tenants")
    key = c.create_tenant(vigil, data, "bank-a")
    c.check(key.startswith("vgl_"), f"unexpected key format {key!r}")
    with open(os.path.join(data, "tenants.json")) as fh:
        c.check(key not in fh.read(), "tenants.json holds the plaintext key")
    cp = c.run_cli(vigil, ["tenant", "create", "bank-a", "--data-dir", data], check_status=False)
    c.check(cp.returncode != 0 and b"already exists" in cp.stderr and not cp.stdout.strip(),
            f"a duplicate tenant should be refused: {cp.stdout!r} {cp.stderr!r}")

    config = os.path.join(tmp, "bad-config.json")
    with open(config, "w") as fh:
        json.dump({"prot": 1}, fh)
    cp = c.run_cli(vigil, ["serve", "--config", config, "--data-dir", os.path.join(tmp, "unused")], check_status=False)
    c.check(cp.returncode != 0 and b"unknown key 'prot'" in cp.stderr,
            f"a bad config should be refused with its key named: {cp.stderr!r}")


def graceful_shutdown(vigil: str, tmp: str) -> None:
    data = os.path.join(tmp, "graceful")
    server = c.Server(vigil, data, name="graceful").start()
    server.wait_ready()
    key = c.read_demo_key(data)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int) -> None:
        client = c.KeepAliveClient(server.port, key)
        i = 0
        while not stop.is_set():
            pid = f"graceful-{n}-{i}"
            body = {
                "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS",
                "amount": f"{10 + i}.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
                "debtor": {"account": {"sortCode": "112233", "accountNumber": f"{n:08d}"}},
                "creditor": {"account": {"sortCode": "445566", "accountNumber": f"{i % 50:08d}"}},
            }
            try:
                status, _ = client.post_json("/v1/payments/score", json.dumps(body).encode())
            except Exception:  # noqa: BLE001 - the server going away mid-request is the point
                return
            if status == 200:
                with lock:
                    acknowledged.append(pid)
            i += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGTERM)
    try:
        status = server.proc.wait(timeout=15)
    except Exception:  # noqa: BLE001
        c.fail("the server did not exit within 15 s of SIGTERM")
    stop.set()
    for t in threads:
        t.join(timeout=5)
    c.check(status == 0, f"the server exited with {status} after SIGTERM")
    records, _, _ = c.export_events(vigil, data)
    logged = {r["paymentId"] for r in records}
    lost = [p for p in acknowledged if p not in logged]
    c.check(len(acknowledged) >= 200, f"only {len(acknowledged)} payments were acknowledged before SIGTERM")
    c.check(not lost, f"{len(lost)} acknowledged payment(s) missing after graceful shutdown, e.g. {lost[:3]}")
    c.log(f"graceful shutdown: {len(acknowledged)} acknowledged, all in the log; exit status 0")


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-cli-")
    model_predict(args.vigil, tmp)
    features_and_rules(args.vigil, tmp)
    tenants_and_config(args.vigil, tmp)
    graceful_shutdown(args.vigil, tmp)


if __name__ == "__main__":
    c.run_main("cli_verbs", __doc__, main)
