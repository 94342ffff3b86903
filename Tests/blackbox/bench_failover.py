#!/usr/bin/env python3
"""Black-box test: `vigil bench --url A,B` fails over from A to B when A stops answering. No timing assertions.

    python3 Tests/blackbox/bench_failover.py --vigil .build/debug/vigil

Two nodes with one master key and one set of tenants (B's data directory is a copy of A's). The bench runs open loop
(200 requests/s, so the machine is not saturated) with `--url A,B` for 6 s; once A has scored payments, A is killed with SIGKILL. The report (`--json`) says the
connections moved (`failovers` > 0) and gives the longest stretch without a 2xx answer (`longestGapMs`, printed:
the failover gap on this machine); both nodes scored payments, and every request is accounted for (answered 2xx, or
failed when A died). Then, with A still down, a bench with `--url A,B` starts on B at once; from a node that answers
503 (its Redis killed: what a load balancer with no server left answers too) the connections move to B. A bench with
two URLs of different schemes is refused.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request

import common as c
from shared_state import RedisServer


def decisions(node: c.Server) -> int:
    # urllib, not common.request: under the bench's load, common's raw-socket client was seen waiting seconds for
    # /metrics while curl and urllib got it at once.
    with urllib.request.urlopen(f"http://{c.HOST}:{node.port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("vigil_decisions_total{")))


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-bench-failover-")
    data_a, data_b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    c.init_data_dir(args.vigil, data_a)
    shutil.copytree(data_a, data_b, ignore=shutil.ignore_patterns("events"))
    key = c.read_demo_key(data_a)
    node_a = c.Server(args.vigil, data_a, name="node-a", extra_args=["--durability", "async"]).start()
    node_b = c.Server(args.vigil, data_b, name="node-b", extra_args=["--durability", "async"]).start()
    node_a.wait_ready()
    node_b.wait_ready()
    urls = f"http://{c.HOST}:{node_a.port},http://{c.HOST}:{node_b.port}"
    # The kill comes from a shell beside the bench: this machine's scheduler was seen holding this Python process
    # (its sleeps and its HTTP polls) until a busy child finished, which a shell's `sleep` is not.
    script = (
        f"{args.vigil} bench --url {urls} --tenant-key {key} --duration 8 --warmup 0 --connections 4 --rate 100 "
        f"--population 2000 --json > {tmp}/bench.json 2> {tmp}/bench.err & bench=$!; "
        f"sleep 3; kill -9 {node_a.pid}; wait $bench"
    )
    bench = subprocess.run(["sh", "-c", script], timeout=90)
    node_a.kill()  # reaps it, and forgets it
    with open(os.path.join(tmp, "bench.json")) as f:
        out = f.read()
    with open(os.path.join(tmp, "bench.err")) as f:
        err = f.read()
    events, _, _ = c.export_events(args.vigil, data_a)
    scored_a = len(events)
    c.check(bench.returncode == 0, f"vigil bench exited {bench.returncode}: {err[-1500:]!r}")
    report = json.loads(out)
    scored_b = decisions(node_b)
    c.check(report["failovers"] >= 1, f"no connection moved to B: {report}")
    c.check(scored_b > 0, f"B scored nothing after A was killed: {report}")
    c.check(scored_a > 0, f"A scored nothing before it was killed: {report}")
    c.check(report["ok"] > 0 and report["ok"] <= scored_a + scored_b, f"ok {report['ok']} vs A {scored_a} + B {scored_b}")
    unaccounted = report["sent"] - report["ok"] - sum(report["errors"].values())
    c.check(unaccounted == 0, f"{unaccounted} requests neither answered nor failed: {report}")
    c.check(set(report["errors"]) <= {"connection", "timeout"}, f"errors other than A's dying connections: {report['errors']}")
    c.check(0 <= report["longestGapMs"] < 6000, f"longestGapMs {report['longestGapMs']}")
    c.log(f"ok   A killed after {scored_a} payments: {report['failovers']} connection moves to B, B scored {scored_b}; "
          f"failover gap {report['longestGapMs']:.0f} ms (longest stretch without a 2xx answer; 10 ms resolution); "
          f"errors {report['errors']}")

    cp = c.run_cli(args.vigil, ["bench", "--url", urls, "--tenant-key", key, "--duration", "1", "--warmup", "0",
                                "--connections", "2", "--population", "500", "--json"], timeout=40)
    again = json.loads(cp.stdout)
    c.check(again["ok"] > 0 and again["errors"] == {}, f"with A down, a bench on A,B should run on B: {again}")
    c.log(f"ok   A down at the start: the bench connects to B ({again['ok']} ok, no errors)")

    # A node that answers 503 (its Redis is gone; a load balancer whose servers are all down answers the same): the
    # connections move on.
    redis_dir = os.path.join(tmp, "redis")
    os.mkdir(redis_dir)
    redis = RedisServer(redis_dir)
    redis.start()
    data_c = os.path.join(tmp, "c")
    shutil.copytree(data_a, data_c, ignore=shutil.ignore_patterns("events"))
    node_c = c.Server(args.vigil, data_c, name="node-c", extra_args=["--state", redis.url]).start()
    node_c.wait_ready()
    redis.kill()
    before_b = decisions(node_b)
    cp = c.run_cli(args.vigil, ["bench", "--url", f"http://{c.HOST}:{node_c.port},http://{c.HOST}:{node_b.port}",
                                "--tenant-key", key, "--duration", "1", "--warmup", "0", "--connections", "2",
                                "--population", "500", "--json"], timeout=40)
    moved = json.loads(cp.stdout)
    c.check(moved["failovers"] >= 1 and moved["ok"] > 0 and decisions(node_b) - before_b == moved["ok"],
            f"from a node answering 503, the bench should move to B: {moved}")
    c.check(set(moved["errors"]) <= {"503"}, f"errors other than the 503s: {moved['errors']}")
    c.check(node_c.terminate() == 0, "node C did not stop cleanly")
    c.log(f"ok   a node answering 503: {moved['failovers']} connection moves, {moved['ok']} ok at B, errors {moved['errors']}")

    refused = c.run_cli(args.vigil, ["bench", "--url", f"http://{c.HOST}:1,https://{c.HOST}:2", "--tenant-key", key],
                        check_status=False)
    c.check(refused.returncode != 0 and b"same scheme" in refused.stderr, f"mixed schemes: {refused.stderr!r}")
    c.check(node_b.terminate() == 0, "node B did not stop cleanly")
    c.log("ok   --url with mixed schemes is refused")


if __name__ == "__main__":
    c.run_main("bench_failover", __doc__, main, time_limit=150)
