#!/usr/bin/env python3
"""Black-box tests of the security edge against a running `vigil serve`.

Each control is attacked from outside and must hold:
- no core dumps: the server's /proc/PID/limits shows a core-file limit of 0 (soft and hard);
- allow-list: a tenant limited to 10.0.0.0/8 is refused from 127.0.0.1 with 403 before its (malformed) body is
  read, and accepted once 127.0.0.0/8 is allowed;
- usage plan: past its burst a tenant gets 429 with Retry-After, RateLimit and RateLimit-Policy, with exact
  remaining counts, while another tenant is untouched;
- data keys: `vigil keys rotate --tenant` takes effect without a restart (new events carry the new version);
- erasure: `vigil tenant erase` stops the tenant's key at once and leaves no data key of it in keys.json;
- audit: every action above is in `vigil audit export`, with no API key in it, and an edited line makes the export
  fail naming the line.

    python3 Tests/blackbox/security_edge.py --vigil .build/debug/vigil
"""
import json
import os
import time

import common as c


def payment(pid: str) -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": "120.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"name": "Sec Edge", "account": {"sortCode": "404142", "accountNumber": "12345678"}},
        "creditor": {"name": "Payee", "account": {"iban": "GB82WEST12345698765432"}},
    }


def score(server: c.Server, key: str, body=None) -> c.Response:
    return c.request(server.port, "POST", "/v1/payments/score", body if body is not None else payment(c.new_payment_id("sec")),
                     c.score_headers(key))


def until(condition, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    c.fail(f"timed out waiting for {what}")


def header(resp: c.Response, name: str) -> str | None:
    return resp.headers.get(name)


def main(args) -> None:
    vigil = args.vigil
    data = os.path.join(c.make_temp_dir("vigil-sec-"), "data")
    server = c.Server(vigil, data, name="sec").start()
    server.wait_ready()
    demo = c.read_demo_key(data)
    other = c.create_tenant(vigil, data, "other")

    # No core dumps: the kernel's view of the running server.
    with open(f"/proc/{server.pid}/limits") as fh:
        core = next(line for line in fh if line.startswith("Max core file size"))
    c.check(core.split()[4:6] == ["0", "0"], f"core-file limit should be 0 0: {core!r}")
    c.log("no core dumps: RLIMIT_CORE 0/0")

    # Allow-list: refused before the body is read (a malformed body would otherwise be 400).
    c.run_cli(vigil, ["tenant", "allow", "demo", "10.0.0.0/8", "2001:db8::/32", "--data-dir", data])
    resp = until(lambda: (r := score(server, demo, body="{ not json")).status == 403 and r, "the allow-list to apply")
    c.check(json.loads(resp.body)["type"] == "urn:vigil:problem:address-not-allowed", f"403 type: {resp.body!r}")
    c.check(score(server, other).status == 200, "another tenant must not be affected by demo's allow-list")
    c.run_cli(vigil, ["tenant", "allow", "demo", "127.0.0.0/8", "--data-dir", data])
    until(lambda: score(server, demo).status == 200, "127.0.0.0/8 to be allowed")
    bad = c.run_cli(vigil, ["tenant", "allow", "demo", "10.0.0.1/8", "--data-dir", data], check_status=False)
    c.check(bad.returncode != 0 and b"host bits" in bad.stderr, f"a sloppy CIDR must be refused: {bad.stderr!r}")
    c.log("allow-list: 403 from outside the list, before the body; 200 inside it")

    # Usage plan: one token every ~55 minutes, burst 3.
    c.run_cli(vigil, ["tenant", "plan", "demo", "--rate", "0.0003", "--burst", "3", "--data-dir", data])
    first = until(lambda: (r := score(server, demo)).headers.get("RateLimit-Policy") and r, "the plan to apply")
    c.check(header(first, "RateLimit-Policy") == '"burst";q=3;w=10000', f"policy: {header(first, 'RateLimit-Policy')!r}")
    remaining = [header(first, "RateLimit")]
    statuses = [first.status]
    for _ in range(4):
        r = score(server, demo)
        statuses.append(r.status)
        remaining.append(header(r, "RateLimit"))
        last = r
    c.check(statuses == [200, 200, 200, 429, 429], f"burst of 3 then 429: {statuses}")
    c.check([h.split(";")[1] for h in remaining] == ["r=2", "r=1", "r=0", "r=0", "r=0"], f"RateLimit remaining: {remaining}")
    c.check(int(header(last, "Retry-After")) >= 3000, f"Retry-After: {header(last, 'Retry-After')!r}")
    c.check(json.loads(last.body)["type"] == "urn:vigil:problem:rate-limited", f"429 type: {last.body!r}")
    c.check(all(score(server, other).status == 200 for _ in range(5)), "another tenant must not be slowed")
    c.run_cli(vigil, ["tenant", "plan", "demo", "--none", "--data-dir", data])
    until(lambda: score(server, demo).status == 200, "the plan to be removed")
    c.log("usage plan: exactly 3 admitted, then 429 with Retry-After and RateLimit headers; other tenant untouched")

    # Data-key rotation while running.
    out = c.run_cli(vigil, ["keys", "rotate", "--tenant", "demo", "--data-dir", data]).stdout.decode()
    new_version = int(out.split("demo")[1].split()[-1].strip(".:")) if "demo" in out else None
    c.check(new_version is not None, f"keys rotate should print the new version: {out!r}")

    def sealed_with_new_version() -> bool:
        c.check(score(server, demo).status == 200, "scoring after rotation")
        events, _, _ = c.export_events(vigil, data)
        return events[-1]["request"]["debtor"]["sealedAccount"]["k"] == new_version
    until(sealed_with_new_version, "new seals to use the rotated key")
    c.log(f"rotation: new events sealed under version {new_version} without a restart")

    # Erasure.
    refused = c.run_cli(vigil, ["tenant", "erase", "demo", "--data-dir", data], check_status=False)
    c.check(refused.returncode != 0 and b"--yes" in refused.stderr, "erase must ask for --yes")
    c.run_cli(vigil, ["tenant", "erase", "demo", "--yes", "--data-dir", data])
    until(lambda: score(server, demo).status == 401, "the erased tenant's key to stop working")
    with open(os.path.join(data, "keys.json")) as fh:
        keys = json.load(fh)
    c.check(not any(k.get("tenant") == "demo" for k in keys["dataKeys"]), "keys.json still holds a demo data key")
    c.check(any(e["tenant"] == "demo" for e in keys["erased"]), "keys.json should record the erasure")
    c.check(score(server, other).status == 200, "the other tenant keeps scoring")
    c.log("erasure: credentials refused, data keys gone from keys.json")

    # Audit log.
    cp = c.run_cli(vigil, ["audit", "export", "--data-dir", data])
    records = [json.loads(line) for line in cp.stdout.decode().splitlines()]
    actions = [r["action"] for r in records]
    for action in ("tenant.create", "tenant.allowed-networks", "tenant.plan", "keys.rotate", "tenant.erase"):
        c.check(action in actions, f"audit log lacks {action}: {actions}")
    text = cp.stdout.decode()
    c.check(demo not in text and other not in text, "an API key reached the audit log")
    c.check(all(r["actor"]["name"] for r in records), "every audit record names its actor")
    path = os.path.join(data, "audit.log")
    with open(path) as fh:
        lines = fh.read().splitlines()
    edited = next(i for i, line in enumerate(lines) if '"action":"tenant.create","target":"other"' in line)
    lines[edited] = lines[edited].replace('"target":"other"', '"target":"someone-else"')
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    cp = c.run_cli(vigil, ["audit", "export", "--data-dir", data], check_status=False)
    # The edited line still follows its predecessor; the line after it no longer follows it.
    c.check(cp.returncode != 0 and f"line {edited + 2}:".encode() in cp.stderr,
            f"tampering must be reported at line {edited + 2}: {cp.stderr!r}")
    c.log(f"audit: {len(records)} records, chain verified, an edit is caught")

    c.check(server.terminate() == 0, "graceful shutdown")


if __name__ == "__main__":
    c.run_main("security_edge", __doc__, main)
