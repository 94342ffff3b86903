#!/usr/bin/env python3
"""The machine's fdatasync latency, with the CPUs idle and with them busy.

Vigil acknowledges a payment only after its event is fsynced (durability = fsync), so this is the floor under every
latency `vigil bench` reports. On some virtual machines a thread that blocks in fdatasync while its vCPU has nothing
else to run waits for the host to reschedule the vCPU, far longer than the disk takes; with the CPUs busy the same
call returns much sooner. This script shows which kind of machine it runs on: it appends 8 KiB and fdatasyncs, 300
times, first alone and then with one busy-looping process per core.

    python3 scripts/fsync_latency.py [--dir DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def measure(directory: str, count: int = 300) -> list[float]:
    path = os.path.join(directory, "fsync-latency.tmp")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        block = b"x" * 8192
        times = []
        for _ in range(count):
            os.write(fd, block)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
        return sorted(times)
    finally:
        os.close(fd)
        os.unlink(path)


def report(label: str, times: list[float]) -> None:
    def at(q: float) -> float:
        return times[min(len(times) - 1, int(q * len(times)))] * 1e3
    print(f"{label:<28} p50 {at(0.5):6.2f} ms   p90 {at(0.9):6.2f} ms   p99 {at(0.99):6.2f} ms   max {times[-1] * 1e3:6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", help="directory on the disk to test (default: a temporary directory)")
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="vigil-fsync-")
    report("fdatasync, CPUs idle:", measure(directory))
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.5)
        report("fdatasync, CPUs busy:", measure(directory))
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    if not args.dir:
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
