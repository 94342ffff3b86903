#!/usr/bin/env python3
"""Black-box test of a full disk: readiness tells the truth, logging never kills the server, the node restarts.

    sudo python3 Tests/blackbox/disk_full.py --vigil .build/debug/vigil

Needs root: it mounts two small tmpfs file systems, one for the data directory and one for the file stderr is
redirected to (as systemd or a container runtime does), and unmounts them in a finally block.

1. The data file system fills. `vigil serve` runs with 256 KiB event-log segments; once it is ready the test fills
   the rest of the data file system, then 4 threads post payments until the event log cannot append (a roll to a new
   segment meets ENOSPC). Then:
   - /ready answers 503 `urn:vigil:problem:not-ready` with a detail naming the event log, and vigil_ready reads 0;
   - the process exits by itself with status 75 (EX_TEMPFAIL: what the systemd unit restarts on), not by a signal;
   - the log does not flood: the failure is one line and the refusals a few summary lines, however many there were.
2. Space returns; the log destination is full. With the filler removed from the data file system and the log file
   system filled to the last byte, `vigil serve` starts again with one debug line per payment: it becomes ready,
   acknowledges payments, stays alive, and counts the lines it could not write in vigil_log_lines_dropped_total.
   Every payment acknowledged in step 1 is in the event log (`vigil events export`).
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402
from crash_recovery import PaymentFactory  # noqa: E402

SCORE = "/v1/payments/score"
SEGMENT_BYTES = 256 * 1024
EXIT_SECONDS = 4
EX_TEMPFAIL = 75
THREADS = 4


def mount_tmpfs(path: str, size: str) -> None:
    os.makedirs(path, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                            capture_output=True, text=True)
    c.check(result.returncode == 0, f"cannot mount a {size} tmpfs on {path} (this test needs root): {result.stderr}")


def unmount(path: str) -> None:
    subprocess.run(["umount", "-l", path], capture_output=True)


def fill(directory: str, name: str) -> str:
    """Writes a file in `directory` until the file system has no byte left; returns its path."""
    path = os.path.join(directory, name)
    chunk = b"\xff" * 4096
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            c.check(exc.errno == errno.ENOSPC, f"filling {path} failed with {exc!r}, not ENOSPC")
        for size in (512, 64, 1):  # the last partial page too
            try:
                while True:
                    fh.write(chunk[:size])
            except OSError:
                pass
    return path


class Node:
    """`vigil serve` with stderr redirected to a file, as a supervisor runs it."""

    def __init__(self, vigil: str, data: str, stderr_path: str, env: dict[str, str]) -> None:
        self.stderr_path = stderr_path
        stderr = open(stderr_path, "ab")
        self.proc = subprocess.Popen(
            [vigil, "serve", "--host", c.HOST, "--port", "0", "--data-dir", data],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True,
            env={**os.environ, **env})
        stderr.close()
        self.port = 0
        deadline = time.monotonic() + c.STARTUP_TIMEOUT
        assert self.proc.stdout is not None
        while not self.port:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(5)
                c.fail(f"vigil serve exited with {self.proc.returncode} before listening:\n{self.log_tail()}")
            match = c.LISTEN_RE.search(line)
            if match:
                self.port = int(match.group(3))
            c.check(time.monotonic() < deadline, "vigil serve did not print its port in time")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def log_tail(self) -> str:
        try:
            with open(self.stderr_path, "rb") as fh:
                return fh.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + c.READY_TIMEOUT
        while True:
            c.check(self.proc.poll() is None, f"vigil serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if c.request(self.port, "GET", "/ready", timeout=2.0).status == 200:
                    return
            except OSError:
                pass
            c.check(time.monotonic() < deadline, f"/ready not 200 in time:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def drive(port: int, key: str, seed: int, stop: threading.Event, acked: list[str], refused: list[int],
          lock: threading.Lock, thread_no: int) -> None:
    factory = PaymentFactory(seed, thread_no)
    client = None
    while not stop.is_set():
        pid, body = factory.next()
        try:
            if client is None:
                client = c.KeepAliveClient(port, key, timeout=10.0)
            status, _ = client.post_json(SCORE, body)
        except (OSError, c.http.client.HTTPException):
            if client is not None:
                client.close()
            client = None
            time.sleep(0.02)
            continue
        with lock:
            if status == 200:
                acked.append(pid)
            elif status == 503:
                refused.append(1)
            else:
                c.log(f"unexpected status {status} for a payment")
    if client is not None:
        client.close()


def metric(port: int, name: str) -> float:
    text = c.request(port, "GET", "/metrics").body.decode()
    match = re.search(r"(?m)^" + re.escape(name) + r"(?:\{\})? (\S+)$", text)
    c.check(match, f"/metrics has no {name}")
    return float(match.group(1))


def fill_the_data_disk(vigil: str, data: str, logs: str) -> list[str]:
    env = {"VIGIL_EVENT_LOG_SEGMENT_BYTES": str(SEGMENT_BYTES), "VIGIL_EVENT_LOG_FAILURE_EXIT_SECONDS": str(EXIT_SECONDS)}
    node = Node(vigil, data, os.path.join(logs, "vigil.log"), env)
    try:
        node.wait_ready()
        key = c.read_demo_key(data)
        fill(data, "filler")
        c.log("data file system full; posting payments until the event log cannot append")

        stop = threading.Event()
        acked: list[str] = []
        refused: list[int] = []
        lock = threading.Lock()
        seed = int(time.time())
        threads = [threading.Thread(target=drive, args=(node.port, key, seed, stop, acked, refused, lock, n), daemon=True)
                   for n in range(THREADS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while True:
            with lock:
                if refused:
                    break
            c.check(node.proc.poll() is None, f"vigil serve died while the disk filled ({node.proc.returncode}):\n"
                                              f"{node.log_tail()}")
            c.check(time.monotonic() < deadline, f"no payment was refused within 60 s ({len(acked)} acknowledged)")
            time.sleep(0.02)

        ready = c.request(node.port, "GET", "/ready")
        c.check(ready.status == 503, f"/ready answered {ready.status} while the event log cannot append")
        problem = ready.json()
        c.check(problem.get("type") == "urn:vigil:problem:not-ready", f"/ready 503 is not a not-ready problem: {problem}")
        c.check("event log" in problem.get("detail", ""), f"/ready 503 does not give the reason: {problem}")
        c.check(metric(node.port, "vigil_ready") == 0, "vigil_ready is not 0 while the event log cannot append")
        c.log(f"ok: after {len(acked)} acknowledged, /ready 503 ({problem['detail'][:60]}...), vigil_ready 0")

        try:
            status = node.proc.wait(EXIT_SECONDS + 30)
        except subprocess.TimeoutExpired:
            c.fail("vigil serve did not exit after its event log failed")
        stop.set()
        for t in threads:
            t.join(15)
        c.check(status >= 0, f"vigil serve was killed by signal {-status}, not a clean exit:\n{node.log_tail()}")
        c.check(status == EX_TEMPFAIL, f"vigil serve exited {status} after its event log failed, not {EX_TEMPFAIL}")
        c.log(f"ok: exited by itself with status {EX_TEMPFAIL} after {len(refused)} refusals")

        lines = [json.loads(line) for line in open(node.stderr_path, "rb").read().splitlines() if line.strip()]
        failed = [line for line in lines if "event log failed" in line.get("msg", "")]
        c.check(failed, f"nothing in the log says the event log failed:\n{node.log_tail()}")
        c.check(len(failed) <= 10, f"{len(failed)} log lines about the failure for {len(refused)} refusals: a flood")
        c.check(sum(1 for line in failed if line.get("level") == "critical") == 1,
                "the failure is not logged exactly once at critical")
        c.check(len(lines) < 40, f"{len(lines)} log lines in all: the refusals flooded the log")
        c.log(f"ok: {len(lines)} log lines in all, the failure once, for {len(refused)} refused payments")
        return acked
    finally:
        node.stop()


def full_log_destination(vigil: str, data: str, logs: str, acked: list[str]) -> None:
    os.remove(os.path.join(data, "filler"))
    fill(logs, "filler")
    node = Node(vigil, data, os.path.join(logs, "vigil.log"),
                {"VIGIL_LOG_LEVEL": "debug", "VIGIL_EVENT_LOG_SEGMENT_BYTES": str(SEGMENT_BYTES)})
    try:
        node.wait_ready()
        key = c.read_demo_key(data)
        factory = PaymentFactory(int(time.time()) + 1, 99)
        client = c.KeepAliveClient(node.port, key)
        for _ in range(50):
            _, body = factory.next()
            status, answer = client.post_json(SCORE, body)
            c.check(status == 200, f"a payment after restart got {status}: {answer[:300]!r}")
        client.close()
        c.check(node.proc.poll() is None, f"vigil serve died with its log destination full ({node.proc.returncode})")
        dropped = metric(node.port, "vigil_log_lines_dropped_total")
        c.check(dropped >= 50, f"vigil_log_lines_dropped_total is {dropped} after 50 debug lines to a full disk")
        c.log(f"ok: restarted, ready, 50 payments acknowledged with the log destination full ({dropped:.0f} lines dropped)")
        os.kill(node.proc.pid, signal.SIGTERM)
        c.check(node.proc.wait(c.STOP_TIMEOUT) == 0, "vigil serve did not exit 0 on SIGTERM")
    finally:
        node.stop()

    records, _, _ = c.export_events(vigil, data)
    exported = {record["paymentId"] for record in records}
    missing = [pid for pid in acked if pid not in exported]
    c.check(not missing, f"{len(missing)} acknowledged payments are not in the event log, e.g. {missing[:3]}")
    c.log(f"ok: all {len(acked)} payments acknowledged before the disk filled are in the event log")


def main(args) -> None:
    c.check(os.geteuid() == 0, "this test mounts tmpfs file systems and must run as root")
    root = c.make_temp_dir("vigil-disk-full")
    data, logs = os.path.join(root, "data"), os.path.join(root, "logs")
    try:
        mount_tmpfs(data, "2m")
        mount_tmpfs(logs, "1m")
        acked = fill_the_data_disk(args.vigil, data, logs)
        full_log_destination(args.vigil, data, logs, acked)
    finally:
        unmount(data)
        unmount(logs)


if __name__ == "__main__":
    c.run_main("disk_full", __doc__.splitlines()[0], main, time_limit=170.0)
