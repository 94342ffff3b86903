#!/usr/bin/env python3
"""Smoke test of `vigil-microbench recovery --debtors N` (issue 12 §1): the recovery benchmark scored over the feature
state memory stage's workload of N distinct debtors. No timing assertions.

- `--debtors 2000 --tail 100`: every payment of the workload is scored, the state holds at least the 2,000 debtors'
  accounts, the report prints the store's footprint, the snapshot's size, its in-process load and both times to
  /ready, and the snapshot restores accounts;
- `--payments 1000` caps the count; without `--debtors` the simulated history is scored as before;
- a bad `--debtors`, or a `--tail` not below the workload's payments, is refused with a message naming it.

    python3 Tests/blackbox/microbench_recovery.py --vigil .build/debug/vigil
"""
import os
import re

import common as c


def microbench(vigil: str) -> str:
    path = os.path.join(os.path.dirname(vigil), "vigil-microbench")
    c.check(os.access(path, os.X_OK), f"no vigil-microbench beside {vigil}")
    return path


def recovery(vigil: str, args: list[str], **kwargs):
    return c.run_cli(microbench(vigil), ["recovery", "--vigil", vigil, *args], timeout=120, **kwargs)


def number(pattern: str, text: str, what: str) -> float:
    match = re.search(pattern, text, re.M)
    c.check(match is not None, f"the report lacks {what} ({pattern!r}):\n{text}")
    return float(match.group(1))


def main(args) -> None:
    vigil = args.vigil

    text = recovery(vigil, ["--debtors", "2000", "--tail", "100"]).stdout.decode()
    scored = number(r"^built (\d+) scored payments", text, "the payments scored")
    planned = number(r"FeatureMemory's workload: 2000 distinct debtors pay 200 creditors, (\d+) payments", text,
                     "the workload's payments")
    c.check(scored == planned and scored > 2000, f"scored {scored:.0f} of the workload's {planned:.0f} payments:\n{text}")
    accounts = number(r"^state: (\d+) distinct accounts", text, "the distinct accounts")
    c.check(accounts >= 2000, f"{accounts:.0f} distinct accounts, fewer than the 2,000 debtors:\n{text}")
    footprint = number(r"store footprint ([\d.]+) MB", text, "the store's footprint")
    c.check(footprint > 0, f"store footprint {footprint} MB:\n{text}")
    after = number(r"^snapshot at sequence \d+ \((\d+) records after it\)", text, "the snapshot")
    # The snapshot is taken after the 64-payment batch that reaches it, so up to 63 fewer records follow it.
    c.check(36 < after <= 100, f"{after:.0f} records after the snapshot, expected up to the 100 of --tail:\n{text}")
    restored = number(r"^snapshot load in-process .*: [\d.]+ s; (\d+) accounts restored", text, "the snapshot's load")
    c.check(0 < restored <= accounts, f"{restored:.0f} accounts restored of {accounts:.0f}:\n{text}")
    c.check(re.search(r"^time to /ready: snapshot \+ tail [\d.]+ s; full replay [\d.]+ s", text, re.M) is not None,
            f"the report lacks both times to /ready:\n{text}")
    c.log(f"--debtors 2000: {scored:.0f} payments, {accounts:.0f} accounts, footprint {footprint} MB, "
          f"{restored:.0f} accounts restored from the snapshot")

    text = recovery(vigil, ["--debtors", "2000", "--payments", "1000", "--tail", "100"]).stdout.decode()
    capped = number(r"^built (\d+) scored payments", text, "the payments scored")
    c.check(capped == 1000, f"--payments 1000 scored {capped:.0f}:\n{text}")
    c.log("--payments caps the workload")

    text = recovery(vigil, ["--payments", "1500", "--tail", "100"]).stdout.decode()
    simulated = number(r"^built (\d+) scored payments .*\(1 passes of \d+ simulated payments\)", text, "the simulated payments")
    c.check(simulated == 1500 and "distinct accounts" in text, f"without --debtors, 1500 simulated payments:\n{text}")
    c.log("without --debtors: the simulated history, as before")

    for bad, needle, status in ((["--debtors", "50"], b"--debtors", 2),
                                (["--debtors", "many"], b"--debtors", 2),
                                (["--debtors", "200", "--tail", "100000"], b"--tail", 1)):
        cp = recovery(vigil, bad, check_status=False)
        c.check(cp.returncode == status and needle in cp.stderr,
                f"`recovery {' '.join(bad)}` should exit {status} naming {needle.decode()}: {cp.returncode} {cp.stderr!r}")
    c.log("bad options are refused")


if __name__ == "__main__":
    c.run_main("microbench_recovery", __doc__, main, time_limit=300)
