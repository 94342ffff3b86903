#!/usr/bin/env python3
"""Smoke test of scripts/bench_cluster.py (issue 11's figures): it runs end to end at a tiny scale, every figure it
reports is there and consistent with what was sent, and it stops everything it started. No timing assertions.

    python3 Tests/blackbox/bench_cluster_smoke.py --vigil .build/debug/vigil

One run: `--rounds 1 --duration 2 --rate 100 --open-duration 3 --ready-payments 3000`, its own TMPDIR. Then:

- both targets have a closed-loop and an open-loop run with answers and no errors, and the report states the ratio;
  the cluster ran both again with Redis at `appendfsync everysec`;
- the cluster's runs count Redis round trips (at least the duplicate check's 2 and 2 for each of the debtor's and the
  creditor's records), commands and bytes per payment, and CPU per payment for both nodes, HAProxy and Redis;
- time to ready: both restarted nodes replayed nothing after scoring at least --ready-payments: the embedded node
  loads the snapshot it wrote at SIGTERM (issue 12), the cluster node's state is in Redis;
- Redis memory: accounts, relationships and devices/IPs were sampled with MEMORY USAGE, and there is one duplicate-check
  key for each payment the cluster scored;
- no process that it started (Redis, HAProxy, nodes, load generator) is left, and its work directory is gone.

Needs redis-server, redis-cli and haproxy (scripts/test installs Debian's).
"""
from __future__ import annotations

import json
import os
import subprocess

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "bench_cluster.py")
READY_PAYMENTS = 3000


def processes_under(path: str) -> list[str]:
    """Command lines of live processes that name `path` (their data directories and Redis's dir are under it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if path in cmd and state != "Z" and int(pid) != os.getpid():
            found.append(f"{pid}: {cmd[:200]}")
    return found


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-bench-cluster-smoke-")
    os.chmod(tmp, 0o711)  # scripts/cluster's PostgreSQL, as the postgres user, reaches its directory below this one
    out = os.path.join(tmp, "out")
    command = ["python3", SCRIPT, "--vigil", args.vigil, "--connections", "8", "--duration", "2", "--warmup", "1",
               "--rounds", "1", "--rate", "100", "--open-duration", "3", "--population", "2000",
               "--ready-payments", str(READY_PAYMENTS), "--memory-sample", "200", "--out", out]
    try:
        run = subprocess.run(command, env={**os.environ, "TMPDIR": tmp}, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired:
        c.fail(f"scripts/bench_cluster.py did not finish within 150 s; left: {processes_under(tmp)}")
        raise
    c.check(run.returncode == 0, f"scripts/bench_cluster.py exited {run.returncode}:\n{run.stderr[-3000:]}")
    c.check(not processes_under(tmp), f"processes left running: {processes_under(tmp)}")
    c.check([e for e in os.listdir(tmp) if e != "out"] == [], f"work files left in TMPDIR: {os.listdir(tmp)}")
    c.log("ok   the run finished and left no process and no work directory")

    with open(os.path.join(out, "figures.json")) as f:
        figures = json.load(f)
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    c.check(report.strip() in run.stdout, "the report printed differs from report.md")
    c.check("python3 scripts/bench_cluster.py --vigil" in report, "the report does not name its command")
    c.check("ratio" in report and "target ≥ 35%" in report, "the report does not state the throughput ratio")

    for kind, runs in (("closed", figures["closed"]), ("open", figures["open"])):
        c.check(sorted(r["target"] for r in runs) == ["cluster", "embedded"], f"{kind}: targets {[r['target'] for r in runs]}")
        for r in runs:
            b = r["bench"]
            c.check(b["ok"] > 0 and b["errors"] == {}, f"{kind} {r['target']}: ok {b['ok']}, errors {b['errors']}")
            c.check(r["payments"] >= b["ok"], f"{kind} {r['target']}: the nodes scored {r['payments']} < {b['ok']} answered")
            roles = set(r["cpu_us_per_payment"])
            expected = {"load generator", "everything else", "node"} if r["target"] == "embedded" else \
                {"load generator", "everything else", "node1", "node2", "haproxy", "redis"}
            c.check(roles == expected, f"{kind} {r['target']}: CPU for {sorted(roles)}, expected {sorted(expected)}")
            if r["target"] == "cluster":
                x = r["redis"]
                c.check(x["round_trips_per_payment"] >= 6, f"{kind}: {x['round_trips_per_payment']} round trips a payment")
                c.check(x["commands_per_payment"] >= x["round_trips_per_payment"] - 1,
                        f"{kind}: Redis counted {x['commands_per_payment']} commands a payment")
                c.check(x["bytes_in_per_payment"] > 0 and x["bytes_out_per_payment"] > 0, f"{kind}: bytes {x}")
                c.check({"evalsha", "mget"} <= x["commands"].keys(), f"{kind}: commands {sorted(x['commands'])}")
            else:
                c.check("redis" not in r, f"{kind}: Redis figures for the embedded node")
    c.check("redis_ping_us" in next(r for r in figures["open"] if r["target"] == "cluster"), "no PING round trips")
    everysec = figures["everysec"]
    c.check([r["label"] for r in everysec] == ["closed-everysec", "open-everysec"]
            and all(r["target"] == "cluster" and r["bench"]["ok"] > 0 and r["bench"]["errors"] == {} for r in everysec),
            f"the appendfsync everysec profile runs: {[(r['label'], r['bench']['ok']) for r in everysec]}")
    c.log("ok   closed and open loop on both targets, Redis round trips, bytes and CPU per payment")

    embedded, cluster = figures["ready"]["embedded"], figures["ready"]["cluster"]
    c.check(embedded["scored"] >= READY_PAYMENTS and cluster["scored"] >= READY_PAYMENTS,
            f"scored before the restarts: {embedded['scored']}, {cluster['scored']}")
    c.check(embedded["replayed_events"] == 0,
            f"the embedded node replayed {embedded['replayed_events']} events after scoring {embedded['scored']} "
            f"(its SIGTERM snapshot should cover them all)")
    c.check(cluster["replayed_events"] == 0, f"the cluster node replayed {cluster['replayed_events']} events")
    c.check(embedded["ready_seconds"] > 0 and cluster["ready_seconds"] > 0, f"ready: {embedded}, {cluster}")
    c.log("ok   restarts: the embedded node (from its shutdown snapshot) and the cluster node replayed nothing")

    classes = figures["redis_memory"]["classes"]
    for name in ("account a{…}", "relationship p{…}", "device/IP e{…}", "duplicate check d:…"):
        x = classes[name]
        c.check(x["keys"] > 0 and x["sampled"] == min(x["keys"], 200) and x["mean_bytes"] > x["mean_value_bytes"] > 0,
                f"memory {name}: {x}")
    c.check(classes["duplicate check d:…"]["keys"] == cluster["scored"],
            f"{classes['duplicate check d:…']['keys']} duplicate-check keys for {cluster['scored']} payments")
    c.check(figures["redis_memory"]["other_keys"] == 0, f"unexpected keys: {figures['redis_memory']['other_keys']}")
    c.log("ok   Redis memory sampled for every class; one duplicate-check key per payment")


if __name__ == "__main__":
    c.run_main("bench_cluster_smoke", __doc__, main, time_limit=170.0)
