#!/usr/bin/env python3
"""One embedded `vigil serve` against `scripts/cluster up --nodes 2` (two nodes on Redis behind HAProxy), in one run.

    swift build -c release --product vigil
    nice python3 scripts/bench_cluster.py --vigil .build/release/vigil [--out DIR]

Issue 11's figures (BENCHMARKS.md, "Many nodes on Redis"), each measured on both targets with the same `vigil bench`
settings, one target after the other in this one run:

1. closed-loop throughput (--rounds alternating pairs: embedded, cluster, cluster, embedded, ...) and its ratio;
2. open-loop p50 / p99 / p99.9 at --rate (1,000/s);
3. per scored payment: Redis round trips (the nodes' `vigil_state_store_round_trips_total`), Redis commands, bytes
   in and out (`INFO stats`), and the CPU each process spent (utime + stime from /proc/PID/stat: the load generator,
   the embedded node, the two nodes, HAProxy, Redis), with Redis's own time per command (`INFO commandstats`) and
   PING round trips measured while the open loop runs;
4. time to ready after --ready-payments (500,000) payments: each target is loaded (closed loop) until its nodes
   have scored that many, then one node is stopped (SIGTERM) and started again with the same command line; the
   figure is process start to the first `GET /ready` 200 (polled every 10 ms). Since issue 12 the embedded node
   writes a snapshot at SIGTERM, so it replays nothing either ("Bounded recovery" in BENCHMARKS.md has the replay
   figures);
5. Redis memory: every key counted by class with SCAN, and `MEMORY USAGE` of a random sample of each class
   (account `a{…}`, relationship `p{…}…`, device/IP `e{…}`, duplicate check `d:…`), with `INFO memory`.

Everything runs on loopback with its own TMPDIR (so another `scripts/cluster up` on the machine is left alone) and is
stopped by PID at the end. It prints a Markdown report (and writes it, the JSON figures and every program's output
to --out). Nothing here asserts a figure: the targets are compared in the report.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
TICKS = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 600.0  # seconds: an embedded node replaying 500,000 events on a busy machine


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, in seconds (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all CPUs, /proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def metrics(port: int) -> dict[str, float]:
    """A node's /metrics, summed over labels: name -> value."""
    status, body = http_get(f"http://{HOST}:{port}/metrics")
    if status != 200:
        raise SystemExit(f"bench_cluster: GET /metrics on port {port} answered {status}")
    totals: dict[str, float] = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return totals


def scored(ports: list[int]) -> int:
    return int(sum(metrics(p).get("vigil_decisions_total", 0.0) for p in ports))


class Redis:
    """Just enough RESP over one socket for INFO, SCAN, MEMORY USAGE and PING (no client library needed)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=30)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"unexpected RESP line {line[:40]!r}")

    @staticmethod
    def _encode(args: tuple) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(parts)

    def send(self, *args):
        self.sock.sendall(self._encode(args))
        return self._reply()

    def pipeline(self, commands: list[tuple]) -> list:
        self.sock.sendall(b"".join(self._encode(c) for c in commands))
        return [self._reply() for _ in commands]

    def info(self, section: str) -> dict[str, str]:
        text = self.send("INFO", section).decode()
        out = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out


def redis_stats(port: int) -> dict[str, float]:
    r = Redis(port)
    try:
        stats = r.info("stats")
        commands = r.info("commandstats")
    finally:
        r.close()
    out = {k: float(stats[k]) for k in ("total_net_input_bytes", "total_net_output_bytes", "total_commands_processed")}
    for name, value in commands.items():  # cmdstat_evalsha: calls=1,usec=2,usec_per_call=2.00,...
        fields = dict(part.split("=") for part in value.split(","))
        out[f"{name}.calls"] = float(fields["calls"])
        out[f"{name}.usec"] = float(fields["usec"])
    return out


def ping_rtts(port: int, count: int, gap: float) -> list[float]:
    """Round trips of PING on a fresh connection, in µs, `gap` seconds apart (while the load runs)."""
    r = Redis(port)
    rtts = []
    try:
        for _ in range(count):
            t = time.perf_counter()
            r.send("PING")
            rtts.append((time.perf_counter() - t) * 1e6)
            time.sleep(gap)
    finally:
        r.close()
    return rtts


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


class Target:
    """A set of Vigil nodes scored through one URL: the embedded node, or the cluster through HAProxy."""

    def __init__(self, name: str, url: str, key: str, node_ports: list[int], pids: dict[str, int],
                 redis_port: int | None) -> None:
        self.name = name
        self.url = url
        self.key = key
        self.node_ports = node_ports
        self.pids = pids  # role -> PID, every process whose CPU counts for this target
        self.redis_port = redis_port


class Bench:
    def __init__(self, args: argparse.Namespace, out: str) -> None:
        self.args = args
        self.out = out
        self.vigil = os.path.abspath(args.vigil)
        self.work = tempfile.mkdtemp(prefix="vigil-bench-cluster-")
        # scripts/cluster's PostgreSQL runs as the postgres user (when this runs as root) and must reach its data
        # directory, below this one: searchable, not listable.
        os.chmod(self.work, 0o711)
        self.tmp = os.path.join(self.work, "tmp")
        os.makedirs(self.tmp)
        self.cluster_env = {**os.environ, "VIGIL": self.vigil, "TMPDIR": self.tmp}
        self.cluster_state = os.path.join(self.tmp, "vigil-cluster")
        self.embedded: subprocess.Popen | None = None
        self.restarted: list[subprocess.Popen] = []
        self.cluster_up = False
        self.runs = 0

    # --- processes -------------------------------------------------------------------------------------------

    def serve_embedded(self, port: int, log_name: str) -> subprocess.Popen:
        data = os.path.join(self.work, "embedded")
        logf = open(os.path.join(self.out, log_name), "ab")
        return subprocess.Popen(
            [self.vigil, "serve", "--host", HOST, "--port", str(port), "--data-dir", data],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, port: int, proc_pid: int, started: float) -> float:
        """Seconds from `started` to the first /ready 200, polled every 10 ms."""
        deadline = started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            status, _ = http_get(f"http://{HOST}:{port}/ready", timeout=1.0)
            if status == 200:
                return time.perf_counter() - started
            if not os.path.exists(f"/proc/{proc_pid}"):
                raise SystemExit(f"bench_cluster: the node on port {port} exited before it was ready")
            time.sleep(0.01)
        raise SystemExit(f"bench_cluster: the node on port {port} was not ready within {READY_TIMEOUT:.0f}s")

    def stop(self, pid: int, timeout: float = 60.0) -> float:
        """SIGTERM, then wait for the process to go; seconds it took (SIGKILL after `timeout`)."""
        started = time.perf_counter()
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return 0.0
        while time.perf_counter() - started < timeout:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except OSError:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
        return time.perf_counter() - started

    def start_embedded(self) -> Target:
        port = free_port()
        self.embedded = self.serve_embedded(port, "embedded.log")
        self.wait_ready(port, self.embedded.pid, time.perf_counter())
        with open(os.path.join(self.work, "embedded", "demo.key")) as f:
            key = f.read().strip()
        return Target("embedded", f"http://{HOST}:{port}", key, [port], {"node": self.embedded.pid}, None)

    def start_cluster(self) -> Target:
        lb_port = free_port()
        result = subprocess.run([os.path.join(ROOT, "scripts", "cluster"), "up", "--nodes", "2", "--port", str(lb_port)],
                                env=self.cluster_env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
        with open(os.path.join(self.out, "cluster-up.txt"), "w") as f:
            f.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise SystemExit(f"bench_cluster: scripts/cluster up failed:\n{result.stdout}{result.stderr}")
        self.cluster_up = True
        env = {}
        with open(os.path.join(self.cluster_state, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                env[k] = v.strip("'")
        node_ports = [int(p) for p in env["VIGIL_CLUSTER_NODE_PORTS"].split()]
        redis_port = int(env["VIGIL_CLUSTER_STATE"].rsplit(":", 1)[1])
        with open(env["VIGIL_CLUSTER_KEY_FILE"]) as f:
            key = f.read().strip()
        pids: dict[str, int] = {}
        with open(os.path.join(self.cluster_state, "pids")) as f:
            for line in f:
                pid_text, name = line.split()
                pid = int(pid_text)
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                except OSError:
                    continue  # gone
                if name == "haproxy":
                    pids["haproxy"] = pid
                elif name == "redis-server":
                    pids["redis"] = pid
                elif b"--port" in cmd and int(cmd[cmd.index(b"--port") + 1]) in node_ports:
                    pids[f"node{node_ports.index(int(cmd[cmd.index(b'--port') + 1])) + 1}"] = pid
                # else: PostgreSQL, the cluster's control plane
        return Target("cluster", env["VIGIL_CLUSTER_URL"], key, node_ports, pids, redis_port)

    def shutdown(self) -> None:
        for proc in self.restarted:
            if proc.poll() is None:
                self.stop(proc.pid)
        if self.embedded is not None and self.embedded.poll() is None:
            self.stop(self.embedded.pid)
        if self.cluster_up:
            subprocess.run([os.path.join(ROOT, "scripts", "cluster"), "down"], env=self.cluster_env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", self.work])

    # --- load ------------------------------------------------------------------------------------------------

    def bench_command(self, target: Target, *, rate: float | None, duration: float, warmup: float) -> list[str]:
        cmd = [self.vigil, "bench", "--url", target.url, "--tenant-key", target.key,
               "--connections", str(self.args.connections), "--duration", f"{duration:g}", "--warmup", f"{warmup:g}",
               "--population", str(self.args.population), "--seed", str(self.args.seed), "--json"]
        if rate is not None:
            cmd += ["--rate", f"{rate:g}"]
        return cmd

    def run(self, target: Target, label: str, *, rate: float | None, duration: float, warmup: float,
            probe_redis: bool = False) -> dict:
        """One `vigil bench` run, with the CPU, metrics and Redis counters around it."""
        cmd = self.bench_command(target, rate=rate, duration=duration, warmup=warmup)
        shown = [("KEY" if a == target.key else a) for a in cmd]
        cpu0 = {role: cpu_seconds(pid) for role, pid in target.pids.items()}
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0 = machine_busy_seconds()
        m0 = [metrics(p) for p in target.node_ports]
        r0 = redis_stats(target.redis_port) if target.redis_port else None
        wall0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pings: list[float] = []
        if probe_redis and target.redis_port:
            time.sleep(warmup + 1)
            pings = ping_rtts(target.redis_port, count=int(max(1, (duration - 2) / 0.02)), gap=0.02)
        stdout, stderr = proc.communicate(timeout=duration + warmup + 120)
        wall = time.perf_counter() - wall0
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy1 = machine_busy_seconds()
        cpu1 = {role: cpu_seconds(pid) for role, pid in target.pids.items()}
        m1 = [metrics(p) for p in target.node_ports]
        r1 = redis_stats(target.redis_port) if target.redis_port else None
        self.runs += 1
        with open(os.path.join(self.out, f"{self.runs:02d}-{target.name}-{label}.json"), "w") as f:
            f.write(stdout)
        if proc.returncode != 0:
            raise SystemExit(f"bench_cluster: vigil bench failed ({proc.returncode}): {stderr.strip()}")
        report = json.loads(stdout)
        payments = sum(b.get("vigil_decisions_total", 0) - a.get("vigil_decisions_total", 0) for a, b in zip(m0, m1))
        cpu = {role: cpu1[role] - cpu0[role] for role in cpu0}
        cpu["load generator"] = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
        # What else ran on the machine meanwhile (other users' builds; this script; the idle target's timers).
        cpu["everything else"] = max(0.0, (busy1 - busy0) - sum(cpu.values()))
        result = {
            "target": target.name, "label": label, "command": " ".join(shlex.quote(a) for a in shown),
            "bench": report, "payments": payments, "wall": wall,
            "cpu_cores": {role: s / wall for role, s in cpu.items()},
            "cpu_us_per_payment": {role: s * 1e6 / payments for role, s in cpu.items()} if payments else {},
        }
        if r0 is not None and payments:
            def delta(key: str) -> float:
                return r1.get(key, 0.0) - r0.get(key, 0.0)
            trips = sum(b.get("vigil_state_store_round_trips_total", 0) - a.get("vigil_state_store_round_trips_total", 0)
                        for a, b in zip(m0, m1))
            retries = sum(b.get("vigil_state_store_cas_retries_total", 0) - a.get("vigil_state_store_cas_retries_total", 0)
                          for a, b in zip(m0, m1))
            per_command = {}
            for key in r1:
                if key.endswith(".calls") and delta(key) > 0:
                    name = key[len("cmdstat_"):-len(".calls")]
                    usec = key[:-len(".calls")] + ".usec"
                    per_command[name] = {"per_payment": delta(key) / payments, "usec_per_call": delta(usec) / delta(key)}
            result["redis"] = {
                "round_trips_per_payment": trips / payments,
                "cas_retries_per_payment": retries / payments,
                "commands_per_payment": delta("total_commands_processed") / payments,
                "bytes_in_per_payment": delta("total_net_input_bytes") / payments,
                "bytes_out_per_payment": delta("total_net_output_bytes") / payments,
                "commands": per_command,
            }
        if pings:
            result["redis_ping_us"] = {"count": len(pings), "p50": percentile(pings, 50), "p99": percentile(pings, 99),
                                       "max": max(pings)}
        lat = report.get("latencyMs") or {}
        log(f"{target.name} {label}: {report['achievedRate']:.0f}/s, ok {report['ok']}, errors {report['errors']}, "
            f"p50 {lat.get('p50')} p99 {lat.get('p99')} p99.9 {lat.get('p999')} ms; {payments} scored")
        return result

    def fill(self, target: Target, payments: int) -> dict:
        """Closed loop until the target's nodes have scored `payments` in all (this run's earlier loads count)."""
        started = time.perf_counter()
        first = scored(target.node_ports)
        chunks = 0
        while True:
            done = scored(target.node_ports)
            if done >= payments:
                break
            # Size the chunk from the rate seen so far, at most 60 s, at least 5 s.
            rate = (done - first) / (time.perf_counter() - started) if chunks else 3000.0
            seconds = min(60.0, max(5.0, (payments - done) / max(rate, 500.0) * 1.05))
            cmd = self.bench_command(target, rate=None, duration=seconds, warmup=0)
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=seconds + 120)
            if proc.returncode != 0:
                raise SystemExit(f"bench_cluster: vigil bench (fill) failed: {proc.stderr.strip()}")
            report = json.loads(proc.stdout)
            if report["errors"]:
                log(f"{target.name} fill: errors {report['errors']}")
            chunks += 1
        done = scored(target.node_ports)
        log(f"{target.name}: {done} payments scored in all ({time.perf_counter() - started:.0f} s of filling)")
        return {"scored": done, "fill_seconds": time.perf_counter() - started}

    # --- restarts ---------------------------------------------------------------------------------------------

    def restart_embedded(self, target: Target) -> dict:
        port = target.node_ports[0]
        events = os.path.join(self.work, "embedded", "events")
        log_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(events) for f in fs)
        stopping = self.stop(self.embedded.pid)
        self.embedded.wait(timeout=10)
        started = time.perf_counter()
        self.embedded = self.serve_embedded(port, "embedded-restart.log")
        ready = self.wait_ready(port, self.embedded.pid, started)
        target.pids["node"] = self.embedded.pid
        return {"ready_seconds": ready, "stop_seconds": stopping, "event_log_bytes": log_bytes,
                "rss_mib_after_ready": rss_mib(self.embedded.pid),
                **self.recovery(os.path.join(self.out, "embedded-restart.log"))}

    @staticmethod
    def recovery(path: str) -> dict:
        """The node's own "Recovery finished" log line: events replayed and how long the replay took."""
        with open(path, errors="replace") as f:
            for line in f:
                if "Recovery finished" in line:
                    entry = json.loads(line)
                    return {"replayed_events": int(entry["vigil.recovery.events"]),
                            "replay_seconds": float(entry["vigil.recovery.duration"].split()[0])}
        return {}

    def restart_cluster_node(self, target: Target) -> dict:
        pid = target.pids["node1"]
        cmd = [a.decode() for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") if a]
        port = int(cmd[cmd.index("--port") + 1])
        data = cmd[cmd.index("--data-dir") + 1]
        events = os.path.join(data, "events")
        log_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(events) for f in fs)
        stopping = self.stop(pid)
        started = time.perf_counter()
        logf = open(os.path.join(self.out, "node1-restart.log"), "ab")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.restarted.append(proc)
        ready = self.wait_ready(port, proc.pid, started)
        target.pids["node1"] = proc.pid
        logf.close()
        return {"ready_seconds": ready, "stop_seconds": stopping, "event_log_bytes": log_bytes,
                "rss_mib_after_ready": rss_mib(proc.pid), **self.recovery(os.path.join(self.out, "node1-restart.log"))}

    # --- Redis memory -----------------------------------------------------------------------------------------

    def redis_memory(self, port: int, sample: int) -> dict:
        r = Redis(port)
        try:
            classes = {"account a{…}": b"vigil:a{", "relationship p{…}": b"vigil:p{", "device/IP e{…}": b"vigil:e{",
                       "duplicate check d:…": b"vigil:d:", "payment marker x{…} (10 min)": b"vigil:x{"}
            keys: dict[str, list[bytes]] = {name: [] for name in classes}
            other: list[bytes] = []
            cursor = b"0"
            while True:
                cursor, batch = r.send("SCAN", cursor, "COUNT", 10000)
                for k in batch:
                    for name, prefix in classes.items():
                        if k.startswith(prefix):
                            keys[name].append(k)
                            break
                    else:
                        other.append(k)
                if cursor == b"0":
                    break
            memory = r.info("memory")
            keyspace = r.info("keyspace")
            out: dict = {"used_memory": int(memory["used_memory"]), "used_memory_dataset": int(memory["used_memory_dataset"]),
                         "keyspace": keyspace, "other_keys": len(other), "classes": {}}
            rng = random.Random(11)
            for name, ks in keys.items():
                chosen = ks if len(ks) <= sample else rng.sample(ks, sample)
                sizes = []
                for i in range(0, len(chosen), 500):
                    part = chosen[i:i + 500]
                    sizes += r.pipeline([("MEMORY", "USAGE", k, "SAMPLES", "0") for k in part])
                values = r.pipeline([("STRLEN", k) for k in chosen[:2000]])
                out["classes"][name] = {
                    "keys": len(ks), "sampled": len(chosen),
                    "mean_bytes": sum(sizes) / len(sizes) if sizes else 0.0,
                    "p50_bytes": percentile(sizes, 50), "p99_bytes": percentile(sizes, 99),
                    "mean_value_bytes": sum(values) / len(values) if values else 0.0,
                    "mean_key_bytes": sum(len(k) for k in chosen) / len(chosen) if chosen else 0.0,
                }
        finally:
            r.close()
        return out


def report_markdown(figures: dict) -> str:
    args = figures["settings"]
    lines = [f"command: `{figures['command']}`", "",
             f"machine: {figures['machine']}", ""]
    closed = figures["closed"]

    def rate(t: str) -> list[float]:
        return [r["bench"]["achievedRate"] for r in closed if r["target"] == t]

    e, c = rate("embedded"), rate("cluster")
    lines.append("closed loop, `vigil bench --connections %d --duration %g --warmup %g`:" % (
        args["connections"], args["duration"], args["warmup"]))
    lines.append("")
    lines.append("| run | target | scores/s | p50 ms | p99 ms | p99.9 ms | errors |")
    lines.append("|---|---|---|---|---|---|---|")
    for i, r in enumerate(closed, 1):
        b = r["bench"]
        lat = b["latencyMs"] or {}
        lines.append(f"| {i} | {r['target']} | {b['achievedRate']:,.0f} | {lat.get('p50', 0):.2f} | {lat.get('p99', 0):.2f} | "
                     f"{lat.get('p999', 0):.2f} | {sum(b['errors'].values())} |")
    if e and c:
        lines.append("")
        lines.append(f"mean: embedded {sum(e) / len(e):,.0f}/s, cluster {sum(c) / len(c):,.0f}/s; "
                     f"ratio {100 * (sum(c) / len(c)) / (sum(e) / len(e)):.1f}% (target ≥ 35%)")
    lines.append("")
    lines.append("open loop at %g/s, `--duration %g`:" % (args["rate"], args["open_duration"]))
    lines.append("")
    lines.append("| target | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in figures["open"]:
        b = r["bench"]
        lat = b["latencyMs"] or {}
        lines.append(f"| {r['target']} | {b['achievedRate']:,.1f} | {lat.get('p50', 0):.2f} | {lat.get('p90', 0):.2f} | "
                     f"{lat.get('p99', 0):.2f} | {lat.get('p999', 0):.2f} | {lat.get('max', 0):.2f} | {sum(b['errors'].values())} |")
    if figures["everysec"]:
        lines.append("")
        lines.append("profile: the cluster again with Redis at `appendfsync everysec` (`CONFIG SET`; `scripts/cluster` "
                     "runs `always`):")
        lines.append("")
        lines.append("| run | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in figures["everysec"]:
            b = r["bench"]
            lat = b["latencyMs"] or {}
            lines.append(f"| {r['label']} | {b['achievedRate']:,.1f} | {lat.get('p50', 0):.2f} | {lat.get('p90', 0):.2f} | "
                         f"{lat.get('p99', 0):.2f} | {lat.get('p999', 0):.2f} | {lat.get('max', 0):.2f} | "
                         f"{sum(b['errors'].values())} |")
        e_closed = [r["bench"]["achievedRate"] for r in figures["everysec"] if r["label"].startswith("closed")]
        if e and e_closed:
            lines.append("")
            lines.append(f"closed loop with everysec: {100 * e_closed[0] / (sum(e) / len(e)):.1f}% of the embedded mean")
    lines.append("")
    lines.append("CPU per scored payment (µs, utime + stime ÷ payments) and cores busy:")
    lines.append("")
    lines.append("| run | target | process | µs/payment | cores |")
    lines.append("|---|---|---|---|---|")
    for r in closed + figures["open"] + figures["everysec"]:
        for role, us in sorted(r["cpu_us_per_payment"].items()):
            lines.append(f"| {r['label']} | {r['target']} | {role} | {us:,.0f} | {r['cpu_cores'][role]:.2f} |")
    lines.append("")
    lines.append("Redis per scored payment:")
    lines.append("")
    lines.append("| run | round trips | CAS retries | commands | bytes in | bytes out | per command: calls/payment (µs/call in Redis) |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in closed + figures["open"] + figures["everysec"]:
        if "redis" not in r:
            continue
        x = r["redis"]
        cmds = ", ".join(f"{n} {v['per_payment']:.2f} ({v['usec_per_call']:.1f})" for n, v in
                         sorted(x["commands"].items(), key=lambda kv: -kv[1]["per_payment"]) if v["per_payment"] >= 0.01)
        lines.append(f"| {r['label']} | {x['round_trips_per_payment']:.2f} | {x['cas_retries_per_payment']:.3f} | "
                     f"{x['commands_per_payment']:.2f} | {x['bytes_in_per_payment']:,.0f} | {x['bytes_out_per_payment']:,.0f} | {cmds} |")
    for r in figures["open"] + figures["everysec"]:
        if "redis_ping_us" in r:
            p = r["redis_ping_us"]
            lines.append("")
            lines.append(f"Redis PING round trip during {r['label']} ({p['count']} pings, 20 ms apart): "
                         f"p50 {p['p50']:.0f} µs, p99 {p['p99']:.0f} µs, max {p['max']:.0f} µs")
    lines.append("")
    lines.append("time to ready (process start → first `/ready` 200):")
    lines.append("")
    lines.append("| target | payments scored before (all nodes) | events replayed | replay (node's log) | ready | "
                 "RSS after ready |")
    lines.append("|---|---|---|---|---|---|")
    for name in ("embedded", "cluster"):
        x = figures["ready"].get(name)
        if x:
            lines.append(f"| {name} | {x['scored']:,} | {x.get('replayed_events', 0):,} | {x.get('replay_seconds', 0):.3f} s | "
                         f"{x['ready_seconds']:.3f} s | {x['rss_mib_after_ready']:.0f} MiB |")
    mem = figures.get("redis_memory")
    if mem:
        lines.append("")
        lines.append("Redis memory (`MEMORY USAGE key SAMPLES 0` over a random sample of each class):")
        lines.append("")
        lines.append("| class | keys | sampled | mean bytes | p50 | p99 | mean key length | mean value length |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for name, x in mem["classes"].items():
            lines.append(f"| {name} | {x['keys']:,} | {x['sampled']:,} | {x['mean_bytes']:.0f} | {x['p50_bytes']:.0f} | "
                         f"{x['p99_bytes']:.0f} | {x['mean_key_bytes']:.0f} | {x['mean_value_bytes']:.0f} |")
        cls = mem["classes"]
        accounts = cls["account a{…}"]["keys"]
        feature = sum(x["keys"] * x["mean_bytes"] for n, x in cls.items() if not n.startswith("duplicate"))
        if accounts:
            lines.append("")
            lines.append(f"feature state per account record (accounts, relationships, devices and IPs in the numerator, "
                         f"as `vigil-microbench` counts in process): {feature / accounts:.0f} bytes "
                         f"({accounts:,} accounts); used_memory {mem['used_memory'] / 1048576:.1f} MiB "
                         f"(dataset {mem['used_memory_dataset'] / 1048576:.1f} MiB), {mem['other_keys']} other keys")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vigil", default=os.path.join(ROOT, ".build", "release", "vigil"))
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds of each closed-loop run")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=2, help="closed-loop pairs, alternating which target goes first")
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--open-duration", type=float, default=30.0)
    p.add_argument("--population", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ready-payments", type=int, default=500_000)
    p.add_argument("--no-everysec", dest="everysec", action="store_false",
                   help="leave out the cluster's closed and open loop again with Redis at appendfsync everysec")
    p.add_argument("--memory-sample", type=int, default=5000, help="keys of each class to run MEMORY USAGE on")
    p.add_argument("--out", default=None, help="directory for the report, the JSON figures and every program's output")
    args = p.parse_args()
    if not os.access(args.vigil, os.X_OK):
        raise SystemExit(f"bench_cluster: no executable {args.vigil}: swift build -c release --product vigil")
    out = os.path.abspath(args.out or os.path.join(ROOT, "bench-results", time.strftime("cluster-%Y%m%d-%H%M%S")))
    os.makedirs(out, exist_ok=True)
    command = " ".join(shlex.quote(a) for a in ["python3", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    bench = Bench(args, out)
    # A SIGTERM (a test's watchdog, a CI timeout) still stops the cluster and the nodes in the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_cluster: terminated; stopping what it started"))
    figures: dict = {"command": command, "settings": vars(args), "closed": [], "open": [], "everysec": [], "ready": {}}
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        figures["machine"] = (f"{os.cpu_count()} CPUs shared by the load generator, HAProxy, Redis and the nodes; "
                              f"load average {' '.join(load)} at the start; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        log(f"output in {out}")
        embedded = bench.start_embedded()
        cluster = bench.start_cluster()
        log(f"embedded {embedded.url}; cluster {cluster.url} (Redis port {cluster.redis_port}, processes {cluster.pids})")
        for i in range(args.rounds):
            order = (embedded, cluster) if i % 2 == 0 else (cluster, embedded)
            for t in order:
                figures["closed"].append(bench.run(t, f"closed-{i + 1}", rate=None, duration=args.duration, warmup=args.warmup))
        for t in (embedded, cluster):
            figures["open"].append(bench.run(t, "open", rate=args.rate, duration=args.open_duration, warmup=3,
                                             probe_redis=True))
        if args.everysec:
            # A profile, not a target: the same cluster with Redis's AOF fsynced once a second instead of before
            # every write's reply (what scripts/cluster configures: appendfsync always).
            redis = Redis(cluster.redis_port)
            try:
                redis.send("CONFIG", "SET", "appendfsync", "everysec")
                figures["everysec"] = [
                    bench.run(cluster, "closed-everysec", rate=None, duration=args.duration, warmup=args.warmup),
                    bench.run(cluster, "open-everysec", rate=args.rate, duration=args.open_duration, warmup=3, probe_redis=True),
                ]
            finally:
                redis.send("CONFIG", "SET", "appendfsync", "always")
                redis.close()
        for t, restart in ((embedded, bench.restart_embedded), (cluster, bench.restart_cluster_node)):
            filled = bench.fill(t, args.ready_payments)
            figures["ready"][t.name] = {**filled, **restart(t)}
            log(f"{t.name}: ready {figures['ready'][t.name]['ready_seconds']:.3f} s after a restart")
        figures["redis_memory"] = bench.redis_memory(cluster.redis_port, args.memory_sample)
    finally:
        bench.shutdown()
    text = report_markdown(figures)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "figures.json"), "w") as f:
        json.dump(figures, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
