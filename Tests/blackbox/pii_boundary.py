#!/usr/bin/env python3
"""The PII boundary is a compile-time fact: nothing past the gateway can import the plaintext request types.

Reads the package graph (`swift package describe --type json`) and fails if any target past the gateway
(engine, features, model runtime, rules, event log, the JSON module) depends, directly or transitively, on
`VigilGateway` (where `PaymentRequest`, `Party` and `AccountIdentifier` live) or on `VigilServer`. It also fails if those
types are declared anywhere but `Sources/VigilGateway`.

    python3 Tests/blackbox/pii_boundary.py
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAST_THE_GATEWAY = ["VigilEngine", "VigilFeatures", "VigilTrees", "VigilRules", "VigilEventLog", "VigilDomain", "VigilJSON"]
PLAINTEXT_HOLDERS = {"VigilGateway", "VigilServer"}
PLAINTEXT_TYPES = ["PaymentRequest", "Party", "AccountIdentifier"]


def main() -> int:
    described = subprocess.run(["swift", "package", "describe", "--type", "json"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout
    targets = {t["name"]: t.get("target_dependencies") or [] for t in json.loads(described)["targets"]}
    failures = []
    for name in PAST_THE_GATEWAY:
        seen, stack = set(), list(targets[name])
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(targets.get(dep, []))
        if seen & PLAINTEXT_HOLDERS:
            failures.append(f"{name} depends on {sorted(seen & PLAINTEXT_HOLDERS)}")
    declaration = re.compile(r"\b(struct|enum|class)\s+(" + "|".join(PLAINTEXT_TYPES) + r")\b")
    for directory, _, files in os.walk(os.path.join(ROOT, "Sources")):
        for file in files:
            path = os.path.join(directory, file)
            if file.endswith(".swift") and "/Sources/VigilGateway/" not in path:
                with open(path, encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        if declaration.search(line):
                            failures.append(f"{os.path.relpath(path, ROOT)}:{n} declares a plaintext type outside the gateway")
    if failures:
        print("FAIL: pii_boundary:\n  " + "\n  ".join(failures))
        return 1
    print(f"PASS: pii_boundary ({', '.join(PAST_THE_GATEWAY)} cannot reach {', '.join(sorted(PLAINTEXT_HOLDERS))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
