#!/usr/bin/env python3
"""Smoke test of `vigil bench`: it runs, reports, and its payments are accepted. No timing assertions.

- closed loop against a spawned server: `vigil bench --spawn --duration 2 --warmup 1 --connections 4`;
- open loop: `--rate 200 --duration 2`, with `--json` parsed and its keys checked;
- `--url` with `--data-dir` against a server started here, on `/v1/payments/score` and on `--path /health`;
- `--record FILE`: one JSON line per request sent, each 200's paymentId and scoreId in the server's event log;
- `--sweep 1,2 --svg FILE`: the scaling curve's JSON steps and its chart;
- bad options are refused with a clear message.

    python3 Tests/blackbox/bench_smoke.py --vigil .build/debug/vigil
"""
import json
import re

import common as c

POPULATION = ["--population", "2000"]
JSON_KEYS = {"sent", "ok", "errors", "achievedRate", "latencyMs", "serverRssBytes", "mode", "connections", "rate",
             "durationSeconds"}
PERCENTILES = {"p50", "p90", "p99", "p999", "max"}


def bench(vigil: str, args: list[str]) -> str:
    cp = c.run_cli(vigil, ["bench", *POPULATION, *args], timeout=40)
    return cp.stdout.decode()


def check_report(report: dict, what: str, mode: str) -> None:
    missing = JSON_KEYS - report.keys()
    c.check(not missing, f"{what}: --json lacks {sorted(missing)}: {report}")
    c.check(report["mode"] == mode, f"{what}: mode {report['mode']!r}, expected {mode!r}")
    c.check(report["ok"] > 0, f"{what}: no request was answered OK: {report}")
    c.check(report["errors"] == {}, f"{what}: errors {report['errors']}")
    c.check(report["sent"] == report["ok"], f"{what}: sent {report['sent']} but ok {report['ok']}")
    c.check(isinstance(report["latencyMs"], dict) and PERCENTILES <= report["latencyMs"].keys(),
            f"{what}: latencyMs should hold {sorted(PERCENTILES)}: {report['latencyMs']}")
    c.check(report["achievedRate"] > 0, f"{what}: achievedRate {report['achievedRate']}")


def main(args) -> None:
    vigil = args.vigil

    text = bench(vigil, ["--spawn", "--duration", "2", "--warmup", "1", "--connections", "4"])
    for label in ("sent:", "ok:", "errors:", "achieved rate:", "latency (ms):", "server RSS:"):
        c.check(label in text, f"closed loop: the report lacks {label!r}:\n{text}")
    ok = re.search(r"^ok:\s+(\d+)", text, re.M)
    errors = re.search(r"^errors:\s+(\d+)", text, re.M)
    c.check(ok is not None and int(ok.group(1)) > 0, f"closed loop: nothing answered OK:\n{text}")
    c.check(errors is not None and int(errors.group(1)) == 0, f"closed loop: errors:\n{text}")
    c.log(f"closed loop --spawn: {ok.group(1)} ok, no errors")

    report = json.loads(bench(vigil, ["--spawn", "--rate", "200", "--duration", "2", "--warmup", "1", "--json"]))
    check_report(report, "open loop", "open")
    c.check(report["rate"] == 200, f"open loop: rate {report['rate']}")
    c.check(isinstance(report["serverRssBytes"], int) and report["serverRssBytes"] > 0,
            f"open loop: serverRssBytes {report['serverRssBytes']}")
    c.log(f"open loop --rate 200: {report['ok']} ok, p99 {report['latencyMs']['p99']} ms")

    data = c.make_temp_dir("vigil-bench-")
    server = c.Server(vigil, data, extra_args=["--durability", "async"], name="bench").start()
    server.wait_ready()
    common = ["--url", server.base_url, "--data-dir", data, "--duration", "1", "--warmup", "0.5",
              "--connections", "2", "--json"]
    report = json.loads(bench(vigil, [*common, "--server-pid", str(server.pid)]))
    check_report(report, "--url score", "closed")
    c.check(report["serverRssBytes"] is not None, "--url with --server-pid: serverRssBytes is null")
    report = json.loads(bench(vigil, [*common, "--path", "/health"]))
    check_report(report, "--path /health", "closed")
    c.check(report["serverRssBytes"] is None, "--url without --server-pid: serverRssBytes should be null")
    c.log(f"--url: score and /health answered, {report['ok']} health checks")
    record = f"{data}/record.jsonl"
    report = json.loads(bench(vigil, [*common, "--record", record]))
    check_report(report, "--record", "closed")
    server.terminate()
    with open(record, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    logged = {r["paymentId"]: r["response"]["scoreId"] for r in c.export_events(vigil, data)[0]}
    # Warm-up requests are recorded too: at least the measured ones, each answered 200 and logged with its scoreId.
    c.check(len(lines) >= report["sent"] and len({line["paymentId"] for line in lines}) == len(lines),
            f"--record: {len(lines)} lines for {report['sent']} measured requests, or a paymentId twice")
    for line in lines:
        c.check(set(line) == {"paymentId", "url", "status", "error", "scoreId", "duplicate", "request"},
                f"--record: keys {sorted(line)}")
        c.check(line["status"] == 200 and line["error"] is None and line["duplicate"] is False
                and line["url"] == server.base_url and line["request"]["paymentId"] == line["paymentId"],
                f"--record: {line}")
        c.check(logged.get(line["paymentId"]) == line["scoreId"],
                f"--record: {line['paymentId']} answered {line['scoreId']}, logged {logged.get(line['paymentId'])}")
    c.log(f"--record: {len(lines)} lines, each a 200 whose paymentId and scoreId the server's log holds")

    svg = f"{data}/curve.svg"
    sweep = json.loads(bench(vigil, ["--spawn", "--sweep", "1,2", "--duration", "1", "--warmup", "0.5", "--svg", svg,
                                     "--json"]))
    c.check(sweep["mode"] == "sweep" and [s["connections"] for s in sweep["steps"]] == [1, 2],
            f"--sweep 1,2: steps {sweep.get('steps')}")
    for step in sweep["steps"]:
        for run in ("health", "score"):
            check_report({**step[run], "mode": "sweep", "serverRssBytes": None, "connections": step["connections"],
                          "rate": None, "durationSeconds": 1}, f"--sweep {run} at {step['connections']}", "sweep")
        c.check(abs(step["ratio"] - step["score"]["achievedRate"] / step["health"]["achievedRate"]) < 0.002,
                f"--sweep: ratio {step['ratio']} is not score ÷ health")
    with open(svg, encoding="utf-8") as f:
        chart = f.read()
    c.check(chart.startswith("<?xml") and chart.count("<polyline") == 2 and "p99" in chart,
            f"--svg: the chart lacks its two curves or labels:\n{chart[:400]}")
    c.log(f"--sweep 1,2: {len(sweep['steps'])} steps, chart written")

    for bad, needle in ((["--spawn", "--rate", "0"], b"--rate"),
                        (["--spawn", "--connections", "0"], b"--connections"),
                        (["--spawn", "--url", "http://127.0.0.1:1"], b"--url"),
                        (["--url", "http://127.0.0.1:1"], b"--tenant-key"),
                        (["--spawn", "--sweep", "1,0"], b"--sweep"),
                        (["--spawn", "--sweep", "4", "--rate", "10"], b"--rate"),
                        (["--spawn", "--svg", "x.svg"], b"--svg"),
                        (["--spawn", "--record", "x.jsonl", "--path", "/health"], b"--record"),
                        (["--spawn", "--record", "x.jsonl", "--sweep", "1"], b"--record")):
        cp = c.run_cli(vigil, ["bench", *bad], check_status=False)
        c.check(cp.returncode != 0 and needle in cp.stderr,
                f"`vigil bench {' '.join(bad)}` should be refused naming {needle.decode()}: {cp.stderr!r}")
    c.log("bad options are refused")


if __name__ == "__main__":
    c.run_main("bench_smoke", __doc__, main)
