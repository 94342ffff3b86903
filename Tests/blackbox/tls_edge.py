#!/usr/bin/env python3
"""Black-box tests of Vigil's TLS edge, with a throwaway PKI from scripts/test_pki.sh.

- `serve` refuses bad TLS settings and files with a message naming them, before it starts.
- `vigil serve --tls-cert --tls-key --client-ca` (TLS 1.3 only by default):
  - a TLS 1.2 client is refused at the handshake;
  - ALPN selects h2 when offered, and http/1.1 otherwise; a real HTTP/2 request (curl --http2) and an HTTP/1.1
    request each score a payment with the tenant's own certificate and key;
  - refused at the handshake, with the TLS alert for the reason: no client certificate, a certificate from a
    rogue CA (with exactly tenant a's subject, so only the signature tells it apart), an expired certificate from
    the real CA (bound to tenant a, so only its dates tell it apart);
  - tenant a's certificate with tenant b's key: 403 client-certificate-mismatch (problem+json), over HTTP/1.1
    and HTTP/2;
  - no certificate subject or SAN reaches the logs.
- `vigil bench --url https://… --client-cert --client-key` scores over mutual TLS.
- `--tls-min-version 1.2`: a TLS 1.2 client with tenant b's certificate (now bound by SAN) scores.
- TLS without `--client-ca`: a tenant bound to certificates is refused (403 client-certificate-required); an
  unbound tenant scores over HTTPS.

    python3 Tests/blackbox/tls_edge.py --vigil .build/debug/vigil
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCORE = "/v1/payments/score"
# What the certificates say; none of it may appear in a log line.
CERTIFICATE_WORDS = ["bank-a-client", "bank-b-client", "Bank A", "Bank B", "bank-a.test", "bank-b.test", "fraud-ops@",
                     "spiffe://", "bank-a-expired"]


def payment(n: int) -> dict:
    return {
        "paymentId": c.new_payment_id(f"tls-{n}"), "perspective": "sending", "type": "push", "scheme": "FPS",
        "amount": f"{100 + n}.00", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"account": {"sortCode": "112233", "accountNumber": f"{n:08d}"}},
        "creditor": {"account": {"sortCode": "445566", "accountNumber": "87654321"}},
    }


class PKI:
    def __init__(self, directory: str) -> None:
        self.dir = directory
        cp = subprocess.run(["bash", os.path.join(ROOT, "scripts", "test_pki.sh"), directory],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        c.check(cp.returncode == 0, f"scripts/test_pki.sh failed ({cp.returncode}): {cp.stderr[-2000:]!r}")

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def pair(self, name: str) -> tuple[str, str]:
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def openssl(self, *args: str) -> str:
        cp = subprocess.run(["openssl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        c.check(cp.returncode == 0, f"openssl {' '.join(args)} failed: {cp.stderr!r}")
        return cp.stdout.decode().strip()

    def subject(self, name: str) -> str:
        """The RFC 4514 subject, as an operator would copy it from openssl."""
        out = self.openssl("x509", "-in", self.path(f"{name}.pem"), "-noout", "-subject", "-nameopt", "RFC2253")
        return out.split("=", 1)[1]


def context(pki: PKI, client: str | None, *, alpn: list[str] | None = None,
            maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.path("ca.pem"))
    if client:
        ctx.load_cert_chain(*pki.pair(client))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if maximum:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = maximum
    return ctx


def https(port: int, ctx: ssl.SSLContext, method: str, path: str, key: str | None = None,
          body: dict | None = None) -> c.Response:
    conn = http.client.HTTPSConnection(c.HOST, port, context=ctx, timeout=15)
    try:
        headers = c.score_headers(key) if body is not None else {}
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
        resp = conn.getresponse()
        return c.Response(resp.status, resp.reason, resp.headers, resp.read())
    finally:
        conn.close()


def negotiated(port: int, ctx: ssl.SSLContext) -> tuple[str | None, str | None]:
    """(ALPN protocol, TLS version) of a completed handshake."""
    with socket.create_connection((c.HOST, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=c.HOST) as tls:
            return tls.selected_alpn_protocol(), tls.version()


def refused(port: int, ctx: ssl.SSLContext, what: str) -> str:
    """The TLS alert that ends the handshake. In TLS 1.3 the client finishes its side before the server has
    judged its certificate, so the verdict may arrive on the first read; nothing is sent, so no reset can hide it."""
    with socket.create_connection((c.HOST, port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname=c.HOST) as tls:
                try:
                    data = tls.recv(1)
                except socket.timeout:
                    c.fail(f"{what}: the handshake was accepted (no alert within 10 s)")
                except ssl.SSLError as exc:
                    return exc.reason or str(exc)
                c.fail(f"{what}: expected a TLS alert, the connection gave {data!r}")
        except ssl.SSLError as exc:
            return exc.reason or str(exc)
    raise AssertionError("unreachable")


def wait_ready(server: c.Server, ctx: ssl.SSLContext, timeout: float = 20.0) -> None:
    c.check(server.scheme == "https", f"{server.name}: the listening line should say https://, it says {server.scheme}://")
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        c.check(server.running(), f"{server.name}: exited while starting\n{server.output_tail()}")
        try:
            resp = https(server.port, ctx, "GET", "/ready")
            if resp.status == 200:
                return
            last = f"HTTP {resp.status}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        time.sleep(0.1)
    c.fail(f"{server.name}: GET /ready not 200 within {timeout:.0f}s (last: {last})\n{server.output_tail()}")


def expect_scored(resp: c.Response, what: str) -> None:
    c.check(resp.status == 200, f"{what}: HTTP {resp.status}, expected 200: {resp.body[:300]!r}")
    answer = resp.json()
    c.check(isinstance(answer.get("score"), int) and answer.get("decision") in ("allow", "review", "block"),
            f"{what}: not a score response: {resp.body[:300]!r}")


def expect_problem(resp: c.Response, status: int, kind: str, what: str) -> None:
    c.check(resp.status == status and resp.media_type == "application/problem+json",
            f"{what}: HTTP {resp.status} {resp.media_type}, expected {status} problem+json: {resp.body[:300]!r}")
    problem = resp.json()
    c.check(problem.get("type") == "urn:vigil:problem:" + kind and problem.get("status") == status,
            f"{what}: problem {problem!r}, expected type {kind}")


def curl(pki: PKI, port: int, client: str, key: str, body: dict, tmp: str) -> tuple[str, int, dict]:
    """POST with curl --http2: (HTTP version, status, JSON body)."""
    out = os.path.join(tmp, "curl-body.json")
    cert, private = pki.pair(client)
    cp = subprocess.run(
        ["curl", "--silent", "--show-error", "--http2", "--cacert", pki.path("ca.pem"), "--cert", cert, "--key", private,
         "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json", "--data-binary", json.dumps(body),
         "-o", out, "-w", "%{http_version} %{http_code}", f"https://{c.HOST}:{port}{SCORE}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    c.check(cp.returncode == 0, f"curl --http2 failed ({cp.returncode}): {cp.stderr!r}")
    version, status = cp.stdout.decode().split()
    with open(out, "rb") as fh:
        return version, int(status), json.loads(fh.read())


def bad_settings(vigil: str, pki: PKI, tmp: str) -> None:
    data = os.path.join(tmp, "never-created")
    cert, key = pki.pair("server")
    cases = [
        (["--tls-key", key], b"needs its certificate"),
        (["--tls-cert", cert], b"needs its private key"),
        (["--client-ca", pki.path("ca.pem")], b"need TLS"),
        (["--tls-cert", cert, "--tls-key", key, "--tls-min-version", "1.1"], b"--tls-min-version must be 1.2 or 1.3"),
        (["--tls-cert", pki.path("missing.pem"), "--tls-key", key], b"missing.pem does not exist"),
        (["--tls-cert", cert, "--tls-key", cert], b"is not an unencrypted PEM private key"),
        (["--tls-cert", key, "--tls-key", key], b"holds no PEM certificate"),
        (["--tls-cert", cert, "--tls-key", pki.path("client-a.key")], b"does not fit"),
        (["--tls-cert", cert, "--tls-key", key, "--client-ca", key], b"client CA file"),
    ]
    for args, message in cases:
        cp = c.run_cli(vigil, ["serve", "--port", "0", "--data-dir", data, *args], check_status=False, timeout=30)
        c.check(cp.returncode != 0 and message in cp.stderr,
                f"serve {' '.join(args)}: expected a refusal naming {message!r}, got {cp.returncode}: {cp.stderr[-500:]!r}")
    c.check(not os.path.exists(data), "a refused start should not create the data directory")
    c.log(f"bad TLS settings: {len(cases)} refused before start, each named")


def main(args) -> None:
    vigil = args.vigil
    tmp = c.make_temp_dir("vigil-tls-")
    c.check(shutil.which("openssl") and shutil.which("curl"), "openssl and curl are needed")
    pki = PKI(os.path.join(tmp, "pki"))
    bad_settings(vigil, pki, tmp)

    data = os.path.join(tmp, "data")
    c.init_data_dir(vigil, data)
    keys = {name: c.create_tenant(vigil, data, name) for name in ("bank-a", "bank-b", "bank-c")}
    # The expired certificate is bound too, so only its dates can refuse it; the rogue one copies bank-a's subject.
    c.run_cli(vigil, ["tenant", "bind-certificate", "bank-a", "--subject", pki.subject("client-a"), "--data-dir", data])
    c.run_cli(vigil, ["tenant", "bind-certificate", "bank-a", "--cert", pki.path("client-expired.pem"), "--data-dir", data])
    c.run_cli(vigil, ["tenant", "bind-certificate", "bank-b", "--cert", pki.path("client-b.pem"), "--data-dir", data])
    cp = c.run_cli(vigil, ["tenant", "bind-certificate", "bank-c", "--cert", pki.path("client-b.pem"), "--data-dir", data],
                   check_status=False)
    c.check(cp.returncode != 0 and b"also bound to tenant 'bank-b'" in cp.stderr,
            f"one certificate bound to two tenants should be refused: {cp.stderr!r}")
    with open(os.path.join(data, "tenants.json")) as fh:
        tenants = {t["name"]: t for t in json.load(fh)["tenants"]}
    fingerprint = pki.openssl("x509", "-in", pki.path("client-b.pem"), "-noout", "-fingerprint", "-sha256")
    want = fingerprint.split("=", 1)[1].replace(":", "").lower()
    c.check(tenants["bank-b"].get("clientCertificates") == [{"sha256": want}],
            f"bank-b should be bound by openssl's fingerprint {want}: {tenants['bank-b'].get('clientCertificates')!r}")

    cert, key = pki.pair("server")
    tls_args = ["--tls-cert", cert, "--tls-key", key]
    server = c.Server(vigil, data, name="mtls", extra_args=[*tls_args, "--client-ca", pki.path("ca.pem")]).start()
    wait_ready(server, context(pki, "client-a"))

    reason = refused(server.port, context(pki, "client-a", maximum=ssl.TLSVersion.TLSv1_2), "TLS 1.2 by default")
    c.check("PROTOCOL_VERSION" in reason, f"TLS 1.2 should be refused with a protocol_version alert, got {reason}")
    c.check(negotiated(server.port, context(pki, "client-a", alpn=["h2", "http/1.1"])) == ("h2", "TLSv1.3"),
            "ALPN should select h2 over TLS 1.3 when the client offers it")
    c.check(negotiated(server.port, context(pki, "client-a", alpn=["http/1.1"]))[0] == "http/1.1",
            "ALPN should select http/1.1 when that is all the client offers")

    version, status, answer = curl(pki, server.port, "client-a", keys["bank-a"], payment(1), tmp)
    c.check((version, status) == ("2", 200) and "score" in answer,
            f"curl --http2 with bank-a's certificate and key: HTTP/{version} {status} {answer!r}")
    expect_scored(https(server.port, context(pki, "client-a"), "POST", SCORE, keys["bank-a"], payment(2)),
                  "HTTP/1.1, bank-a's certificate and key")
    expect_scored(https(server.port, context(pki, "client-b", alpn=["http/1.1"]), "POST", SCORE, keys["bank-b"],
                        payment(3)), "HTTP/1.1, bank-b's certificate (bound by fingerprint) and key")
    c.log("mTLS: TLS 1.2 refused; ALPN h2 and http/1.1; scored over HTTP/2 (curl) and HTTP/1.1")

    alerts = {
        "no client certificate": (context(pki, None), "CERTIFICATE_REQUIRED"),
        "a rogue CA's certificate with bank-a's subject": (context(pki, "rogue-client"), "UNKNOWN_CA"),
        "an expired certificate of the real CA, bound to bank-a": (context(pki, "client-expired"), "CERTIFICATE_EXPIRED"),
    }
    for what, (ctx, alert) in alerts.items():
        reason = refused(server.port, ctx, what)
        c.check(alert in reason, f"{what}: expected a {alert} alert, got {reason}")
    c.log("mTLS: refused at the handshake: " + ", ".join(f"{w} ({a})" for w, (_, a) in alerts.items()))

    expect_problem(https(server.port, context(pki, "client-a"), "POST", SCORE, keys["bank-b"], payment(4)), 403,
                   "client-certificate-mismatch", "HTTP/1.1, bank-a's certificate with bank-b's key")
    version, status, problem = curl(pki, server.port, "client-a", keys["bank-b"], payment(5), tmp)
    c.check((version, status, problem.get("type")) == ("2", 403, "urn:vigil:problem:client-certificate-mismatch"),
            f"HTTP/2, bank-a's certificate with bank-b's key: HTTP/{version} {status} {problem!r}")
    expect_problem(https(server.port, context(pki, "client-b"), "POST", SCORE, keys["bank-c"], payment(6)), 403,
                   "client-certificate-mismatch", "bank-b's certificate with unbound bank-c's key")
    # The same with a signed token: bank-b's token over bank-a's certificate, and bank-a's own token as control.
    token_b = c.run_cli(vigil, ["tenant", "token", "bank-b", "--ttl", "5m", "--data-dir", data]).stdout.decode().strip()
    token_a = c.run_cli(vigil, ["tenant", "token", "bank-a", "--ttl", "5m", "--data-dir", data]).stdout.decode().strip()
    expect_problem(https(server.port, context(pki, "client-a"), "POST", SCORE, token_b, payment(7)), 403,
                   "client-certificate-mismatch", "bank-a's certificate with bank-b's signed token")
    resp = https(server.port, context(pki, "client-a"), "POST", SCORE, token_a, payment(8))
    c.check(resp.status == 200, f"bank-a's certificate with bank-a's own token should score: {resp.status} {resp.body[:300]!r}")
    c.log("mTLS: another tenant's key or signed token over a bound certificate: 403 client-certificate-mismatch (HTTP/1.1 and HTTP/2)")

    cert_a, key_a = pki.pair("client-a")
    cp = c.run_cli(vigil, ["bench", "--url", f"https://{c.HOST}:{server.port}", "--ca", pki.path("ca.pem"),
                           "--client-cert", cert_a, "--client-key", key_a, "--tenant-key", keys["bank-a"],
                           "--population", "500", "--duration", "1", "--warmup", "0.3", "--connections", "2", "--json"],
                   timeout=60)
    report = json.loads(cp.stdout)
    c.check(report["ok"] > 0 and report["errors"] == {}, f"vigil bench over mutual TLS: {report}")
    c.log(f"vigil bench over mutual TLS: {report['ok']} scored, no errors")
    c.check(server.terminate() == 0, "the mTLS server should exit 0 on SIGTERM")
    logs = [server]

    # TLS 1.2 on request; bank-b now bound by SAN alone.
    tenants["bank-b"]["clientCertificates"] = [{"san": "bank-b.test"}]
    with open(os.path.join(data, "tenants.json"), "w") as fh:
        json.dump({"tenants": list(tenants.values())}, fh)
    server = c.Server(vigil, data, name="mtls-1.2",
                      extra_args=[*tls_args, "--client-ca", pki.path("ca.pem"), "--tls-min-version", "1.2"]).start()
    logs.append(server)
    tls12 = context(pki, "client-b", maximum=ssl.TLSVersion.TLSv1_2)
    wait_ready(server, tls12)
    c.check(negotiated(server.port, tls12)[1] == "TLSv1.2", "--tls-min-version 1.2 should accept a TLS 1.2 client")
    expect_scored(https(server.port, tls12, "POST", SCORE, keys["bank-b"], payment(7)),
                  "TLS 1.2, bank-b's certificate (bound by SAN) and key")
    expect_problem(https(server.port, tls12, "POST", SCORE, keys["bank-a"], payment(8)), 403,
                   "client-certificate-mismatch", "TLS 1.2, bank-b's certificate with bank-a's key")
    reason = refused(server.port, context(pki, "client-expired", maximum=ssl.TLSVersion.TLSv1_2), "expired, TLS 1.2")
    c.check("CERTIFICATE_EXPIRED" in reason, f"TLS 1.2 with an expired certificate: expected certificate_expired, got {reason}")
    c.check(server.terminate() == 0, "the TLS 1.2 server should exit 0 on SIGTERM")
    c.log("--tls-min-version 1.2: TLS 1.2 accepted; SAN binding scores, other tenant's key refused; expired refused")

    # TLS without client certificates: bound tenants fail closed, unbound ones work.
    server = c.Server(vigil, data, name="tls", extra_args=tls_args).start()
    logs.append(server)
    plain = context(pki, "client-a")
    wait_ready(server, plain)
    expect_problem(https(server.port, plain, "POST", SCORE, keys["bank-a"], payment(9)), 403,
                   "client-certificate-required", "bound bank-a over a server without --client-ca")
    expect_scored(https(server.port, context(pki, None), "POST", SCORE, keys["bank-c"], payment(10)),
                  "unbound bank-c over TLS without client certificates")
    c.check(server.terminate() == 0, "the TLS server should exit 0 on SIGTERM")
    c.log("TLS without --client-ca: bound tenant refused (client-certificate-required), unbound tenant scores")

    for s in logs:
        text = s.output_tail(10_000)
        leaked = [w for w in CERTIFICATE_WORDS if w in text]
        c.check(not leaked, f"{s.name}: certificate subjects or SANs reached the logs: {leaked}")
    c.log("no certificate subject or SAN in any log")


if __name__ == "__main__":
    c.run_main("tls_edge", __doc__, main, time_limit=180.0)
