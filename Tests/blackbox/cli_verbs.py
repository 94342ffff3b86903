#!/usr/bin/env python3
"""Black-box tests of the `vigil` CLI verbs and of graceful shutdown.

- `model predict` reproduces XGBoost's own probabilities (the parity fixture) to 1e-6, and names a missing
  column or a bad cell with its line.
- `features list`, `rules check` (good and bad files), `tenant create` (one stdout line; duplicates refused).
- `serve` refuses a bad config file with a clear message instead of crashing.
- SIGTERM mid-stream: the server exits 0 and every acknowledged payment is in the event log.
- Signed tokens against a running `vigil serve`: `tenant token demo --ttl 15m` scores, a tampered token is refused
  with the RFC 6750 challenge, `keys rotate --signing` brings a new kid while the previous key's token still scores,
  `tenant api-keys demo --refuse` leaves only tokens; bad `--ttl`, unknown tenants and a bare `keys rotate` are
  refused with a message and nothing on stdout.
- Only `vigil serve` creates a data directory: every admin verb refuses a missing or uninitialised one with exit 2,
  a bad tenant name leaves no tenants.lock, and `serve --model MISSING` creates nothing.
- Help prints each default once, `tenant api-keys` shows its flags as alternatives, a mistyped verb (`vigil features lst`,
  `vigil tenant lst`) is named with the verbs there are, `vigil --version` prints the version and commit.
- `tenant list`, `thresholds`, `perspectives` and `api-keys --add/--revoke` change a running server, are audited,
  and refuse bad arguments with nothing written.
- `deploy/vigil.json` passes `vigil config check` (which names bad variants) and starts a server that scores.

    python3 Tests/blackbox/cli_verbs.py --vigil .build/debug/vigil
"""
import base64
import csv
import json
import os
import re
import signal
import subprocess
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
    c.init_data_dir(vigil, data)
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


def _listing(path: str) -> list[str]:
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def data_directory_refusals(vigil: str, tmp: str) -> None:
    """Only `vigil serve` creates a data directory: every admin verb refuses a missing or uninitialised one, exit 2."""
    missing = os.path.join(tmp, "nonexistent", "x")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    verbs = [
        ["tenant", "create", "bank-a"], ["tenant", "list"], ["tenant", "erase", "demo", "--yes"],
        ["tenant", "thresholds", "demo", "--review", "500"], ["tenant", "perspectives", "demo", "sending"],
        ["tenant", "plan", "demo", "--none"], ["tenant", "allow", "demo", "--any"],
        ["tenant", "api-keys", "demo", "--add"], ["tenant", "api-keys", "demo", "--refuse"],
        ["tenant", "token", "demo", "--ttl", "5m"], ["keys", "rotate"], ["keys", "rotate", "--signing"],
        ["audit", "export"], ["events", "export"],
    ]
    for args in verbs:
        for directory, message in [(missing, b"does not exist"), (empty, b"is not a Vigil data directory")]:
            cp = c.run_cli(vigil, [*args, "--data-dir", directory], check_status=False)
            c.check(cp.returncode == 2 and message in cp.stderr and b"vigil serve --data-dir" in cp.stderr and not cp.stdout.strip(),
                    f"`vigil {' '.join(args)}` on {directory} should exit 2 naming the problem: "
                    f"{cp.returncode} {cp.stdout!r} {cp.stderr!r}")
    c.check(not os.path.exists(os.path.dirname(missing)), f"an admin verb created {missing}")
    c.check(_listing(empty) == [], f"an admin verb wrote into an uninitialised directory: {_listing(empty)}")

    # Arguments are checked before the disk is touched: a bad name leaves no tenants.lock, a bad model no directory.
    cp = c.run_cli(vigil, ["tenant", "create", "Bank A", "--data-dir", empty], check_status=False)
    c.check(cp.returncode == 64 and b"lower-case letters" in cp.stderr and _listing(empty) == [],
            f"a bad tenant name should be refused before any file is opened: {cp.returncode} {cp.stderr!r} {_listing(empty)}")
    fresh = os.path.join(tmp, "never-created")
    cp = c.run_cli(vigil, ["serve", "--port", "0", "--model", os.path.join(tmp, "nonexistent.json"), "--data-dir", fresh],
                   check_status=False)
    c.check(cp.returncode != 0 and b"model:" in cp.stderr and not os.path.exists(fresh),
            f"serve with a missing model should fail before creating its data directory: {cp.stderr!r}")
    c.log(f"data directory: {len(verbs)} admin verbs refuse a missing and an uninitialised directory with exit 2")


def help_and_version(vigil: str) -> None:
    """Help prints each default once, alternatives read as alternatives, a mistyped verb is named, --version."""
    cp = c.run_cli(vigil, ["--version"])
    version = cp.stdout.decode().strip()
    # Built from a git checkout (as here), the commit is the checkout's HEAD, `-dirty` only with uncommitted changes.
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    c.check(re.fullmatch(rf"\d+\.\d+\.\d+ \(commit {head}(-dirty)?\)", version),
            f"`vigil --version` should print the version and the commit {head}: {version!r}")

    for args, lists in [(["features", "lst"], b"`vigil features` has export, list"),
                        (["tenant", "lst", "--data-dir", "/nonexistent"], b"`vigil tenant` has list, create"),
                        (["lst"], b"`vigil` has serve, tenant")]:
        cp = c.run_cli(vigil, args, check_status=False)
        c.check(cp.returncode == 64 and b"unknown verb 'lst'" in cp.stderr and lists in cp.stderr
                and b"--out" not in cp.stderr and b"Unexpected argument" not in cp.stderr,
                f"`vigil {' '.join(args)}` should name the unknown verb and the verbs there are: {cp.returncode} {cp.stderr!r}")

    commands = [
        [], ["serve"], ["tenant"], ["tenant", "create"], ["tenant", "list"], ["tenant", "erase"], ["tenant", "thresholds"],
        ["tenant", "perspectives"], ["tenant", "plan"], ["tenant", "allow"], ["tenant", "regions"], ["tenant", "rules"],
        ["tenant", "bind-certificate"], ["tenant", "token"], ["tenant", "api-keys"], ["keys", "rotate"], ["audit", "export"],
        ["events", "export"], ["features", "export"], ["features", "list"], ["simulate"], ["bench"], ["model", "predict"],
        ["model", "monitor"], ["model", "compare"],
        ["rules", "check"], ["config", "check"], ["report"],
    ]
    for command in commands:
        text = " ".join(c.run_cli(vigil, [*command, "--help"]).stdout.decode().split())
        for option in re.split(r"\s(?=--?[a-z])", text):
            c.check(not (re.search(r"\(default[^:]", option) and "(default: " in option),
                    f"`vigil {' '.join(command)} --help` prints a default twice: {option[:200]!r}")
    text = " ".join(c.run_cli(vigil, ["tenant", "api-keys", "--help"]).stdout.decode().split())
    c.check("(--add | --revoke <key-id> | --accept | --refuse)" in text,
            f"`tenant api-keys --help` should show its flags as alternatives: {text[:400]!r}")
    c.log(f"help: {len(commands)} commands print each default once; --version says {version}")


def _score_as(port: int, key: str, perspective: str = "sending") -> c.Response:
    body = {
        "paymentId": c.new_payment_id("admin"), "perspective": perspective, "type": "push", "scheme": "FPS",
        "amount": "12.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "112233", "accountNumber": "00000001"}},
        "creditor": {"account": {"sortCode": "445566", "accountNumber": "00000002"}},
    }
    return c.request(port, "POST", "/v1/payments/score", body, c.score_headers(key))


def _until(what: str, probe, seconds: float = 10.0):
    """Probes until it returns a true value: the server reloads tenants.json once a second."""
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            c.check(result, f"{what} within {seconds:.0f} s")
            return result
        time.sleep(0.1)


def _tenant_list(vigil: str, data: str) -> dict[str, list[str]]:
    rows = [line.split("\t") for line in c.run_cli(vigil, ["tenant", "list", "--data-dir", data]).stdout.decode().splitlines()]
    c.check(all(len(r) == 10 for r in rows), f"tenant list rows have 10 columns: {rows!r}")
    return {r[0]: r for r in rows}


def tenant_administration(vigil: str, tmp: str) -> None:
    """tenant list, thresholds, perspectives and api-keys --add/--revoke against a running server, each audited."""
    data = os.path.join(tmp, "admin")
    server = c.Server(vigil, data, name="admin").start()
    server.wait_ready()
    demo_key = c.read_demo_key(data)
    listed = _tenant_list(vigil, data)
    c.check(list(listed) == ["demo"] and listed["demo"][1:6] == ["sending,receiving", "600", "900", "accepted", listed["demo"][5]],
            f"tenant list on a fresh directory: {listed!r}")
    demo_id = listed["demo"][5]
    c.check(re.fullmatch(r"[0-9a-f]{12}", demo_id), f"a key id is 12 hex digits: {demo_id!r}")

    new_key = _one_line(c.run_cli(vigil, ["tenant", "api-keys", "demo", "--add", "--data-dir", data]), "tenant api-keys --add")
    c.check(new_key.startswith("vgl_") and new_key != demo_key, f"--add should print a new key: {new_key!r}")
    c.check(_tenant_list(vigil, data)["demo"][5].split(",")[0] == demo_id and len(_tenant_list(vigil, data)["demo"][5].split(",")) == 2,
            "tenant list should show both key ids")
    _until("the added key to score", lambda: _score_as(server.port, new_key).status == 200)
    c.run_cli(vigil, ["tenant", "api-keys", "demo", "--revoke", demo_id, "--data-dir", data])
    _until("the revoked key to be refused", lambda: _score_as(server.port, demo_key).status == 401)
    c.check(_score_as(server.port, new_key).status == 200, "the remaining key should still score")

    c.run_cli(vigil, ["tenant", "thresholds", "demo", "--review", "0", "--block", "0", "--data-dir", data])
    _until("thresholds of 0 to block every payment", lambda: _score_as(server.port, new_key).json().get("decision") == "block")
    c.run_cli(vigil, ["tenant", "perspectives", "demo", "receiving", "--data-dir", data])
    _until("a receiving-only tenant to be refused the sending perspective", lambda: _score_as(server.port, new_key).status == 403)
    c.check(_tenant_list(vigil, data)["demo"][1:4] == ["receiving", "0", "0"], "tenant list should show the new settings")

    audit_before = c.run_cli(vigil, ["audit", "export", "--data-dir", data]).stdout
    for args, message in [
        (["tenant", "thresholds", "demo", "--review", "900", "--block", "100"], b"--review must not be above --block"),
        (["tenant", "thresholds", "demo", "--block", "1001"], b"between 0 and 1000"),
        (["tenant", "thresholds", "demo"], b"give --review, --block or both"),
        (["tenant", "perspectives", "demo", "sideways"], b"sending, receiving"),
        (["tenant", "api-keys", "demo", "--accept", "--refuse"], b"exactly one of"),
        (["tenant", "api-keys", "demo"], b"exactly one of"),
        (["tenant", "api-keys", "demo", "--revoke", "zz"], b"12 lower-case hex digits"),
    ]:
        cp = c.run_cli(vigil, [*args, "--data-dir", data], check_status=False)
        c.check(cp.returncode == 64 and message in cp.stderr and not cp.stdout.strip(),
                f"`vigil {' '.join(args)}` should be refused with {message!r}: {cp.returncode} {cp.stderr!r}")
    cp = c.run_cli(vigil, ["tenant", "api-keys", "demo", "--revoke", demo_id, "--data-dir", data], check_status=False)
    c.check(cp.returncode == 1 and b"no API key with id" in cp.stderr, f"revoking a revoked key: {cp.stderr!r}")
    audit = c.run_cli(vigil, ["audit", "export", "--data-dir", data]).stdout
    c.check(audit == audit_before, "a refused change should not reach the audit log")
    actions = [json.loads(line)["action"] for line in audit.splitlines()]
    for action in ("tenant.api-key.add", "tenant.api-key.revoke", "tenant.thresholds", "tenant.perspectives"):
        c.check(action in actions, f"{action} is not in the audit log: {actions!r}")
    c.check(new_key.encode() not in audit and demo_key.encode() not in audit, "the audit log holds an API key")
    server.terminate()
    c.log("tenant administration: list, key added then old key revoked, thresholds and perspectives applied live, audited")


def example_configuration(vigil: str, tmp: str) -> None:
    """deploy/vigil.json passes `vigil config check` and starts Vigil (data directory and port overridden)."""
    example = os.path.join(ROOT, "deploy", "vigil.json")
    data = os.path.join(tmp, "example")
    cp = c.run_cli(vigil, ["config", "check", example])
    c.check(b": OK" in cp.stdout, f"config check on the example: {cp.stdout!r}")
    c.check(not os.path.exists(data), "config check created something")
    bad = os.path.join(tmp, "bad-example.json")
    with open(example) as fh:
        config = json.load(fh)
    for change, message in [({"durabilty": "fsync"}, b"unknown key 'durabilty'"), ({"port": 70000}, b"port must be between"),
                            ({"modelPath": os.path.join(tmp, "no-model.json")}, b"model:"),
                            ({"tlsKeyPath": "/etc/vigil/key.pem"}, b"needs its certificate"),
                            ({"state": "redis://10.0.0.1:notaport"}, b"state:"),
                            ({"state": "postgres://10.0.0.1:5432"}, b"state must be memory"),
                            ({"stateFailure": "ignore"}, b"stateFailure must be unavailable or degraded"),
                            ({"stream": "http://10.0.0.1:9092"}, b"stream must be kafka://"),
                            ({"stream": "kafka://10.0.0.1:9092", "streamTopic": "no spaces"}, b"streamTopic must be")]:
        with open(bad, "w") as fh:
            json.dump({**config, **change}, fh)
        cp = c.run_cli(vigil, ["config", "check", bad], check_status=False)
        c.check(cp.returncode == 1 and message in cp.stderr and not cp.stdout.strip(),
                f"config check should refuse {change!r} with {message!r}: {cp.returncode} {cp.stderr!r}")
    # A shared state store is parsed as `vigil serve` parses it, without contacting it, and never shows its password.
    with open(bad, "w") as fh:
        json.dump({**config, "state": "redis://vigil:s3cret-canary@10.0.0.1:6379", "stateFailure": "degraded"}, fh)
    cp = c.run_cli(vigil, ["config", "check", bad])
    c.check(b"redis://vigil:***@10.0.0.1:6379 (degraded when it fails)" in cp.stdout and b"s3cret-canary" not in cp.stdout,
            f"config check on a Redis state: {cp.stdout!r}")
    with open(bad, "w") as fh:
        json.dump({**config, "stream": "kafka://10.0.0.1:9092,10.0.0.2:9092"}, fh)
    cp = c.run_cli(vigil, ["config", "check", bad])
    c.check(b"stream       kafka://10.0.0.1:9092,10.0.0.2:9092 topic vigil.events" in cp.stdout,
            f"config check on a stream: {cp.stdout!r}")
    server = c.Server(vigil, data, extra_args=["--config", example], name="example").start()
    server.wait_ready()
    resp = _score_as(server.port, c.read_demo_key(data))
    c.check(resp.status == 200, f"Vigil started from deploy/vigil.json should score: {resp.status} {resp.body[:300]!r}")
    c.check(server.terminate() == 0, "Vigil started from deploy/vigil.json did not stop cleanly")
    c.log("example configuration: config check passes, bad variants are named, Vigil starts from it and scores")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _one_line(cp, what: str) -> str:
    lines = [ln.strip() for ln in cp.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
    c.check(len(lines) == 1, f"`{what}` should print exactly one stdout line, got {lines!r}")
    return lines[0]


def _token(vigil: str, data: str, *extra: str) -> str:
    token = _one_line(c.run_cli(vigil, ["tenant", "token", "demo", "--ttl", "15m", "--data-dir", data, *extra]),
                      "vigil tenant token demo --ttl 15m")
    parts = token.split(".")
    c.check(len(parts) == 3, f"a token is three dot-separated parts: {token[:40]!r}…")
    header, claims = json.loads(_b64url_decode(parts[0])), json.loads(_b64url_decode(parts[1]))
    c.check(header.get("typ") == "JWT" and header.get("alg") in ("ES256", "EdDSA"), f"unexpected header {header!r}")
    c.check(set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti", "kid"}, f"unexpected claims {sorted(claims)!r}")
    c.check(claims["sub"] == "demo" and claims["exp"] - claims["iat"] == 900 and claims["kid"] == header["kid"],
            f"unexpected claims {claims!r}")
    return token


def _kid(token: str) -> str:
    return json.loads(_b64url_decode(token.split(".")[0]))["kid"]


def _score(port: int, bearer: str) -> c.Response:
    body = {
        "paymentId": c.new_payment_id("token"), "perspective": "sending", "type": "push", "scheme": "FPS",
        "amount": "12.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "112233", "accountNumber": "00000001"}},
        "creditor": {"account": {"sortCode": "445566", "accountNumber": "00000002"}},
    }
    return c.request(port, "POST", "/v1/payments/score", body, c.score_headers(bearer))


def _score_within(port: int, bearer: str, want: int, seconds: float = 10.0) -> c.Response:
    """Scores until the status is `want`: the server reloads signing keys and tenants once a second."""
    deadline = time.monotonic() + seconds
    resp = _score(port, bearer)
    while resp.status != want and time.monotonic() < deadline:
        time.sleep(0.1)
        resp = _score(port, bearer)
    return resp


def signed_tokens(vigil: str, tmp: str) -> None:
    data = os.path.join(tmp, "tokens")
    server = c.Server(vigil, data, name="tokens").start()
    server.wait_ready()
    api_key = c.read_demo_key(data)

    first = _token(vigil, data)
    with open(os.path.join(data, "signing-keys.json")) as fh:
        stored = json.load(fh)["keys"]
    c.check([k["kid"] for k in stored] == [_kid(first)], f"the token's kid is not the server's first key: {stored!r}")
    c.check(os.stat(os.path.join(data, "signing-keys.json")).st_mode & 0o777 == 0o600, "signing-keys.json is not 0600")
    resp = _score(server.port, first)
    c.check(resp.status == 200, f"a fresh token should score: {resp.status} {resp.body[:300]!r}")

    header, payload, signature = first.split(".")
    claims = json.loads(_b64url_decode(payload))
    claims["sub"] = "another-bank"
    tampered = ".".join([header, _b64url_encode(json.dumps(claims).encode()), signature])
    resp = _score(server.port, tampered)
    c.check(resp.status == 401 and resp.media_type == "application/problem+json",
            f"a tampered token should be a 401 problem: {resp.status} {resp.body[:300]!r}")
    c.check(resp.header("WWW-Authenticate") == 'Bearer realm="vigil", error="invalid_token"',
            f"a refused token needs the RFC 6750 challenge, got {resp.header('WWW-Authenticate')!r}")
    c.check(signature.encode() not in resp.body and payload.encode() not in resp.body, "the 401 echoes the token")

    kid = _one_line(c.run_cli(vigil, ["keys", "rotate", "--signing", "--data-dir", data]), "vigil keys rotate --signing")
    c.check(kid != _kid(first), "keys rotate --signing printed the old kid")
    second = _token(vigil, data)
    c.check(_kid(second) == kid, f"a token issued after the rotation is signed by {_kid(second)}, not the new {kid}")
    resp = _score_within(server.port, second, 200)
    c.check(resp.status == 200, f"the new key's token should score once the server reloads: {resp.status} {resp.body[:300]!r}")
    resp = _score(server.port, first)
    c.check(resp.status == 200, f"the previous key's token should still score after rotation: {resp.status} {resp.body[:300]!r}")

    eddsa = _token(vigil, data, "--alg", "EdDSA")
    resp = _score_within(server.port, eddsa, 200)
    c.check(resp.status == 200, f"an EdDSA token should score: {resp.status} {resp.body[:300]!r}")

    c.run_cli(vigil, ["tenant", "api-keys", "demo", "--refuse", "--data-dir", data])
    resp = _score_within(server.port, api_key, 401)
    c.check(resp.status == 401 and b"accepts only signed tokens" in resp.body,
            f"a tenant that refuses API keys should say so: {resp.status} {resp.body[:300]!r}")
    resp = _score(server.port, second)
    c.check(resp.status == 200, f"a token should still score when API keys are refused: {resp.status} {resp.body[:300]!r}")
    server.terminate()

    for args, message in [
        (["tenant", "token", "demo", "--ttl", "25h"], b"at most 24h"),
        (["tenant", "token", "demo", "--ttl", "15"], b"a number and a unit"),
        (["tenant", "token", "no-such-bank", "--ttl", "15m"], b"does not exist"),
        (["tenant", "token", "demo", "--ttl", "15m", "--alg", "none"], b"--alg must be ES256 or EdDSA"),
        (["keys", "rotate", "--tenant", "no-such-bank"], b"no tenant named 'no-such-bank'"),
        (["keys", "rotate", "--signing", "--tenant", "demo"], b"takes no --tenant"),
    ]:
        cp = c.run_cli(vigil, [*args, "--data-dir", data], check_status=False)
        c.check(cp.returncode != 0 and message in cp.stderr and not cp.stdout.strip(),
                f"`vigil {' '.join(args)}` should fail with {message!r}: {cp.stdout!r} {cp.stderr!r}")
    missing = os.path.join(tmp, "no-such-data")
    cp = c.run_cli(vigil, ["keys", "rotate", "--signing", "--data-dir", missing], check_status=False)
    c.check(cp.returncode != 0 and b"does not exist" in cp.stderr and not os.path.exists(missing),
            f"keys rotate should refuse a missing data directory without creating it: {cp.stderr!r}")
    c.log(f"signed tokens: issued, scored, tamper refused, rotated to {kid[:8]}… with the old token still valid")


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
    full_output(vigil, data)


def full_output(vigil: str, data: str) -> None:
    """An export to a full disk (/dev/full: every write is ENOSPC) is an error that names the cause, not a crash."""
    for args in (["events", "export"], ["audit", "export"]):
        with open("/dev/full", "wb") as full:
            cp = subprocess.run([vigil, *args, "--data-dir", data], stdin=subprocess.DEVNULL, stdout=full,
                                stderr=subprocess.PIPE, timeout=60)
        c.check(cp.returncode == 1 and b"cannot write to standard output: No space left on device" in cp.stderr,
                f"`vigil {' '.join(args)} > /dev/full` should fail with exit 1 and say why, not die: "
                f"{cp.returncode} {cp.stderr[-500:]!r}")
    c.log("exports to a full disk: exit 1 with 'No space left on device', no crash")


def main(args) -> None:
    tmp = c.make_temp_dir("vigil-cli-")
    model_predict(args.vigil, tmp)
    features_and_rules(args.vigil, tmp)
    tenants_and_config(args.vigil, tmp)
    data_directory_refusals(args.vigil, tmp)
    help_and_version(args.vigil)
    tenant_administration(args.vigil, tmp)
    example_configuration(args.vigil, tmp)
    signed_tokens(args.vigil, tmp)
    graceful_shutdown(args.vigil, tmp)


if __name__ == "__main__":
    c.run_main("cli_verbs", __doc__, main)
