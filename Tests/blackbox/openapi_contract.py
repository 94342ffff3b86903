#!/usr/bin/env python3
"""Black-box contract test: the running server and its OpenAPI document agree.

    python3 Tests/blackbox/openapi_contract.py --vigil .build/debug/vigil

1. Starts `vigil serve` on an empty temp data dir, reads the demo key, stops it,
   creates a tenant `sendonly` and restricts it to the sending perspective in
   tenants.json, restarts the server.
2. Fetches GET /openapi.json and validates it with openapi-spec-validator (and
   checks it equals Sources/VigilServer/Resources/openapi.json when that file
   exists next to this script's checkout).
3. Runs a table of exchanges; for each one checks the status is documented for
   the operation, the Content-Type is the documented one, the body validates
   against the documented schema, problem `type`/`status`/`errors[].pointer`,
   documented required headers, that no problem `detail` echoes a submitted
   value, and that the request body passes / fails the request schema as the
   server accepts / rejects it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

SCORE = "/v1/payments/score"
REQUEST_SCHEMA = "/paths/~1v1~1payments~1score/post/requestBody/content/application~1json/schema"
PROBLEM = "urn:vigil:problem:"
JSON = "application/json"

# Fields whose values are vocabulary (enum members, codes), which a detail may legitimately name.
VOCABULARY_KEYS = {"perspective", "type", "scheme", "channel", "currency", "confirmationOfPayee"}


@dataclass
class Exchange:
    name: str
    method: str
    path: str
    expect_status: int
    body: Any = None                 # dict/list -> JSON-encoded; bytes/str sent as-is
    key: str | None = "demo"         # "demo", "sendonly", None (no header) or a literal header value via `headers`
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)
    expect_type: str | None = None   # problem URN suffix
    expect_pointer: str | None = None
    schema: str | None = None        # "valid" | "invalid" | "semantic" | None (not applicable)
    canaries: list[str] = field(default_factory=list)
    extra: Callable[["Exchange", c.Response, Any], list[str]] | None = None


# ---------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------

IBAN_GB_DEBTOR = c.make_iban("GB", "NWBK601613" + "31926819")
IBAN_GB_CREDITOR = "GB82WEST12345698765432"
IBAN_DE = c.make_iban("DE", "370400440532013000")
IBAN_FR = c.make_iban("FR", "20041010050500013M02606")
IBAN_NL = c.make_iban("NL", "ABNA0417164300")
IBAN_CANARY_BAD = c.corrupt_iban_checksum(c.make_iban("GB", "CNRY" + "772211" + "58204617"))


def full_payment(pid: str) -> dict:
    """Every optional field present."""
    return {
        "paymentId": pid,
        "perspective": "sending",
        "type": "push",
        "scheme": "FPS",
        "channel": "mobile",
        "amount": "250.00",
        "currency": "GBP",
        "createdAt": c.rfc3339_now(-5),
        "debtor": {"name": "Contracta Canaryfield", "account": {"iban": IBAN_GB_DEBTOR}, "agent": "NWBKGB2L"},
        "creditor": {"name": "Bertrand Quillmoss", "account": {"iban": IBAN_GB_CREDITOR}, "agent": "WESTGB22"},
        "payee": {"firstSeenAt": c.rfc3339_now(-3600), "confirmationOfPayee": "match"},
        "device": {"id": "ct-device-canary-5521", "ip": "198.51.100.23"},
        "reference": "Invoice CT-canary-4411",
    }


def minimal_payment(pid: str) -> dict:
    """Required fields only, sort code accounts."""
    return {
        "paymentId": pid,
        "perspective": "sending",
        "type": "push",
        "scheme": "FPS",
        "amount": "12.34",
        "currency": "GBP",
        "createdAt": c.rfc3339_now(-2),
        "debtor": {"account": {"sortCode": "309634", "accountNumber": "71234588"}},
        "creditor": {"account": {"sortCode": "200415", "accountNumber": "40311122"}},
    }


def scheme_payment(pid: str) -> dict:
    """Scheme/id accounts, receiving side, pull, IPv6, non-UTC offset."""
    return {
        "paymentId": pid,
        "perspective": "receiving",
        "type": "pull",
        "scheme": "PIX",
        "channel": "api",
        "amount": "1999.9",
        "currency": "BRL",
        "createdAt": "2025-03-01T08:15:30-03:00",
        "debtor": {"name": "Joaquina Canarinho", "account": {"scheme": "PIX", "id": "joaquina.canary@pix.example"}},
        "creditor": {"account": {"scheme": "PIX", "id": "+5511987654321"}, "agent": "60701190"},
        "payee": {"confirmationOfPayee": "unavailable"},
        "device": {"ip": "2001:db8:85a3::8a2e:370:7334"},
    }


def mixed_payment(pid: str) -> dict:
    """IBAN debtor, sort-code creditor, zero-decimal currency, empty reference, fractional seconds."""
    return {
        "paymentId": pid,
        "perspective": "sending",
        "type": "push",
        "scheme": "RTP",
        "channel": "web",
        "amount": "1500",
        "currency": "JPY",
        "createdAt": "2025-01-15T09:30:00.123456Z",
        "debtor": {"account": {"iban": IBAN_DE}},
        "creditor": {"account": {"sortCode": "402715", "accountNumber": "09876543"}},
        "payee": {"firstSeenAt": "2024-12-24T18:00:00+00:00"},
        "device": {"id": "d"},
        "reference": "",
    }


def sepa_payment(pid: str) -> dict:
    return {
        "paymentId": pid,
        "perspective": "sending",
        "type": "push",
        "scheme": "SEPA_INST",
        "channel": "branch",
        "amount": "0.01",
        "currency": "EUR",
        "createdAt": c.rfc3339_now(-1),
        "debtor": {"name": "Émilie Fauvette", "account": {"iban": IBAN_FR}, "agent": "BNPAFRPP"},
        "creditor": {"name": "Ruud Kanarie", "account": {"iban": IBAN_NL}},
    }


def boundary_payment(pid: str) -> dict:
    """Maximum lengths."""
    return {
        "paymentId": pid,
        "perspective": "sending",
        "type": "push",
        "scheme": "FEDNOW",
        "channel": "a" * 32,
        "amount": "123456789.12",
        "currency": "USD",
        "createdAt": c.rfc3339_now(-1),
        "debtor": {"name": "N" * 140, "account": {"scheme": "USABA", "id": "0" * 64}, "agent": "A" * 35},
        "creditor": {"name": "M", "account": {"scheme": "X", "id": "9"}},
        "device": {"id": "D" * 128, "ip": "192.0.2.1"},
        "reference": "R" * 140,
    }


def with_(base: dict, *edits: tuple[str, Any]) -> dict:
    """Copy `base` applying (json-pointer, value) edits; value `DELETE` removes the member."""
    out = json.loads(json.dumps(base))
    for pointer, value in edits:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]
        node = out
        for t in tokens[:-1]:
            node = node[t]
        if value is DELETE:
            del node[tokens[-1]]
        else:
            node[tokens[-1]] = value
    return out


DELETE = object()


def string_leaves(obj: Any, key: str | None = None) -> list[str]:
    """Submitted string values that a problem detail must never echo."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in VOCABULARY_KEYS and isinstance(v, str):
                continue
            out += string_leaves(v, k)
    elif isinstance(obj, list):
        for v in obj:
            out += string_leaves(v, key)
    elif isinstance(obj, str) and len(obj) >= 4:
        out.append(obj)
    return out


# ---------------------------------------------------------------------------
# Extra per-exchange checks
# ---------------------------------------------------------------------------

_first_responses: dict[str, dict] = {}


def check_scored(ex: Exchange, resp: c.Response, parsed: Any, *, duplicate: bool = False) -> list[str]:
    problems = []
    if not isinstance(parsed, dict):
        return ["body is not an object"]
    if parsed.get("paymentId") != ex.body.get("paymentId"):
        problems.append(f"paymentId {parsed.get('paymentId')!r} != submitted {ex.body.get('paymentId')!r}")
    if parsed.get("duplicate") is not duplicate:
        problems.append(f"duplicate is {parsed.get('duplicate')!r}, expected {duplicate}")
    reasons = parsed.get("reasons")
    if isinstance(reasons, list):
        contribs = [r.get("contribution") for r in reasons if isinstance(r, dict)]
        if all(isinstance(x, (int, float)) for x in contribs) and contribs != sorted(contribs, reverse=True):
            problems.append(f"reasons not sorted by contribution (largest first): {contribs}")
    return problems


def check_first(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
    problems = check_scored(ex, resp, parsed)
    if isinstance(parsed, dict):
        _first_responses[ex.body["paymentId"]] = parsed
    return problems


def check_duplicate(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
    problems = check_scored(ex, resp, parsed, duplicate=True)
    original = _first_responses.get(ex.body["paymentId"])
    if original is None:
        return problems + ["original response missing (the first request failed)"]
    for k in ("scoreId", "score", "decision", "reasons", "rules", "modelVersion"):
        if isinstance(parsed, dict) and parsed.get(k) != original.get(k):
            problems.append(f"duplicate {k} {parsed.get(k)!r} != original {original.get(k)!r}")
    return problems


def allow_contains(method: str) -> Callable[[Exchange, c.Response, Any], list[str]]:
    def _check(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
        allow = resp.header("Allow") or ""
        methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
        return [] if method in methods else [f"Allow header {allow!r} does not list {method}"]
    return _check


def www_authenticate(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
    value = resp.header("WWW-Authenticate") or ""
    return [] if value.lower().startswith("bearer") else [f"WWW-Authenticate is {value!r}, expected Bearer challenge"]


def status_body(expected: str) -> Callable[[Exchange, c.Response, Any], list[str]]:
    def _check(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
        return [] if isinstance(parsed, dict) and parsed.get("status") == expected else [f"body {parsed!r} != status {expected!r}"]
    return _check


def metrics_text(ex: Exchange, resp: c.Response, parsed: Any) -> list[str]:
    text = resp.body.decode("utf-8", "replace")
    return [] if "# TYPE" in text or "# HELP" in text else ["metrics body has no '# TYPE'/'# HELP' lines"]


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def build_table() -> list[Exchange]:
    pid = c.new_payment_id
    dup = full_payment(pid("ct-dup"))
    base = full_payment(pid("ct-base"))  # template for invalid cases (each gets a fresh paymentId)

    def bad(name: str, *edits: tuple[str, Any], pointer: str, schema: str = "invalid") -> Exchange:
        body = with_(base, ("/paymentId", pid("ct-bad")), *edits)
        return Exchange(name, "POST", SCORE, 400, body=body, expect_type="validation-failed",
                        expect_pointer=pointer, schema=schema)

    big = {"paymentId": pid("ct-big"), "reference": "x" * (65 * 1024)}
    table = [
        # -- operational routes
        Exchange("health", "GET", "/health", 200, key=None, content_type=None, extra=status_body("ok")),
        Exchange("ready", "GET", "/ready", 200, key=None, content_type=None, extra=status_body("ready")),
        Exchange("metrics", "GET", "/metrics", 200, key=None, content_type=None, extra=metrics_text),
        Exchange("openapi", "GET", "/openapi.json", 200, key=None, content_type=None),

        # -- valid payments
        Exchange("valid iban, all optional fields", "POST", SCORE, 200, body=dup, schema="valid", extra=check_first),
        Exchange("valid sort code, required fields only", "POST", SCORE, 200, body=minimal_payment(pid("ct-min")),
                 schema="valid", extra=check_scored),
        Exchange("valid scheme ids, receiving, pull, ipv6", "POST", SCORE, 200, body=scheme_payment(pid("ct-pix")),
                 schema="valid", extra=check_scored),
        Exchange("valid mixed accounts, JPY, empty reference", "POST", SCORE, 200, body=mixed_payment(pid("ct-jpy")),
                 schema="valid", extra=check_scored),
        Exchange("valid SEPA, content type with charset", "POST", SCORE, 200, body=sepa_payment(pid("ct-sepa")),
                 content_type="application/json; charset=utf-8", schema="valid", extra=check_scored),
        Exchange("valid maximum lengths", "POST", SCORE, 200, body=boundary_payment(pid("ct-max").ljust(64, "0")),
                 schema="valid", extra=check_scored),
        Exchange("valid sending-only tenant, sending", "POST", SCORE, 200, key="sendonly",
                 body=minimal_payment(pid("ct-so")), schema="valid", extra=check_scored),
        Exchange("duplicate retry", "POST", SCORE, 200, body=dup, schema="valid", extra=check_duplicate),
        Exchange("paymentId reused for another amount", "POST", SCORE, 409, body=with_(dup, ("/amount", "9999.00")),
                 expect_type="payment-id-reused", schema="valid"),
        Exchange("duplicate retry after the reused id", "POST", SCORE, 200, body=dup, schema="valid",
                 extra=check_duplicate),

        # -- malformed
        Exchange("malformed json", "POST", SCORE, 400, body=b'{"paymentId": "ct-canary-malformed-8812", "amount": ',
                 expect_type="malformed-json", canaries=["ct-canary-malformed-8812"]),
        Exchange("json array, not an object", "POST", SCORE, 400, body=[base], expect_type="malformed-json",
                 schema="invalid"),
        Exchange("json string, not an object", "POST", SCORE, 400, body=b'"ct-canary-string-3391"',
                 expect_type="malformed-json", schema="invalid", canaries=["ct-canary-string-3391"]),

        # -- schema-level validation failures
        bad("wrong type: amount is a number", ("/amount", 100.5), pointer="/amount"),
        bad("wrong type: debtor is a string", ("/debtor", "Contracta Canaryfield"), pointer="/debtor"),
        bad("wrong type: paymentId is a boolean", ("/paymentId", True), pointer="/paymentId"),
        bad("missing field: currency", ("/currency", DELETE), pointer="/currency"),
        bad("missing field: debtor account", ("/debtor/account", DELETE), pointer="/debtor/account"),
        bad("unknown field: top level", ("/canaryExtraField", "ct-canary-extra-7719"), pointer="/canaryExtraField"),
        bad("unknown field: in debtor", ("/debtor/nickname", "ct-canary-nick-2290"), pointer="/debtor/nickname"),
        bad("unknown field: in device", ("/device/imei", "ct-canary-imei-6620"), pointer="/device/imei"),
        bad("unknown enum: perspective", ("/perspective", "both"), pointer="/perspective"),
        bad("unknown enum: type", ("/type", "request"), pointer="/type"),
        bad("unknown enum: confirmationOfPayee", ("/payee/confirmationOfPayee", "maybe"),
            pointer="/payee/confirmationOfPayee"),
        bad("account with two forms", ("/debtor/account", {"iban": IBAN_GB_DEBTOR, "sortCode": "309634",
                                                           "accountNumber": "71234588"}), pointer="/debtor/account"),
        bad("iban pattern", ("/debtor/account/iban", "GB82-WEST-canary-1234"), pointer="/debtor/account/iban"),
        bad("sort code too short", ("/creditor/account", {"sortCode": "30963", "accountNumber": "71234588"}),
            pointer="/creditor/account/sortCode"),
        bad("amount negative", ("/amount", "-10.00"), pointer="/amount"),
        bad("amount too many decimals", ("/amount", "1.12345"), pointer="/amount"),
        bad("currency lowercase", ("/currency", "gbp"), pointer="/currency"),
        bad("scheme lowercase", ("/scheme", "fps"), pointer="/scheme"),
        bad("paymentId empty", ("/paymentId", ""), pointer="/paymentId"),
        bad("paymentId 65 chars", ("/paymentId", "p" * 65), pointer="/paymentId"),
        bad("reference 141 chars", ("/reference", "r" * 141), pointer="/reference"),
        bad("timestamp garbage", ("/createdAt", "01/05/2024 10:00 canary"), pointer="/createdAt"),
        bad("timestamp without offset", ("/createdAt", "2024-05-01T10:00:00"), pointer="/createdAt"),
        bad("payee firstSeenAt not a date-time", ("/payee/firstSeenAt", "yesterday-canary"),
            pointer="/payee/firstSeenAt"),
        bad("ip out of range", ("/device/ip", "256.1.2.3"), pointer="/device/ip"),
        bad("ip not an address", ("/device/ip", "ct-canary-not-an-ip"), pointer="/device/ip"),

        # -- semantic-only validation failures (the schema accepts them)
        bad("iban checksum", ("/debtor/account/iban", IBAN_CANARY_BAD), pointer="/debtor/account/iban",
            schema="semantic"),
        bad("amount zero", ("/amount", "0.00"), pointer="/amount", schema="semantic"),
        bad("amount zero integer", ("/amount", "0"), pointer="/amount", schema="semantic"),
        bad("amount over-precise GBP", ("/amount", "10.001"), pointer="/amount", schema="semantic"),
        bad("amount over-precise JPY", ("/currency", "JPY"), ("/amount", "100.5"), pointer="/amount",
            schema="semantic"),
        bad("currency unknown", ("/currency", "XYZ"), pointer="/currency", schema="semantic"),
        bad("createdAt in 2099", ("/createdAt", "2099-01-01T00:00:00Z"), pointer="/createdAt", schema="semantic"),

        # -- transport / auth
        Exchange("body over 64 KiB", "POST", SCORE, 413, body=big, expect_type="payload-too-large"),
        Exchange("content type text/plain", "POST", SCORE, 415, body=full_payment(pid("ct-415")),
                 content_type="text/plain", expect_type="unsupported-media-type", schema="valid"),
        Exchange("content type missing", "POST", SCORE, 415, body=full_payment(pid("ct-415b")),
                 content_type=None, expect_type="unsupported-media-type", schema="valid"),
        Exchange("missing api key", "POST", SCORE, 401, key=None, body=full_payment(pid("ct-401")),
                 expect_type="unauthorized", schema="valid", extra=www_authenticate),
        Exchange("wrong api key", "POST", SCORE, 401, key="ct-canary-wrong-key-0042", body=full_payment(pid("ct-401b")),
                 expect_type="unauthorized", schema="valid", extra=www_authenticate,
                 canaries=["ct-canary-wrong-key-0042"]),
        Exchange("non-bearer authorization", "POST", SCORE, 401, key=None,
                 headers={"Authorization": "Basic Y3QtY2FuYXJ5OnNlY3JldA=="}, body=full_payment(pid("ct-401c")),
                 expect_type="unauthorized", schema="valid", extra=www_authenticate,
                 canaries=["Y3QtY2FuYXJ5OnNlY3JldA=="]),
        Exchange("sending-only tenant, receiving", "POST", SCORE, 403, key="sendonly",
                 body=with_(minimal_payment(pid("ct-403")), ("/perspective", "receiving")),
                 expect_type="forbidden-perspective", schema="valid"),

        # -- routing
        Exchange("unknown route GET", "GET", "/v1/nope", 404, content_type=None, expect_type="not-found"),
        Exchange("unknown route POST", "POST", "/v1/payments", 404, body=full_payment(pid("ct-404")),
                 expect_type="not-found"),
        Exchange("wrong method GET score", "GET", SCORE, 405, content_type=None, expect_type="method-not-allowed",
                 extra=allow_contains("POST")),
        Exchange("wrong method DELETE score", "DELETE", SCORE, 405, content_type=None,
                 expect_type="method-not-allowed", extra=allow_contains("POST")),
        Exchange("wrong method POST health", "POST", "/health", 405, body={}, expect_type="method-not-allowed",
                 extra=allow_contains("GET")),
    ]
    return table


# ---------------------------------------------------------------------------
# Checking one exchange against the document
# ---------------------------------------------------------------------------

class Contract:
    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.schemas = c.SpecSchemas(doc)

    def responses_for(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        """(operation label, {status: pointer to the response object})."""
        paths = self.doc.get("paths", {})
        op = paths.get(path, {}).get(method.lower()) if path in paths else None
        if op is not None:
            base = f"/paths/{c.pointer_escape(path)}/{method.lower()}/responses"
            return f"{method} {path}", {code: f"{base}/{code}" for code in op.get("responses", {}) if code.isdigit()}
        if path in paths:
            return f"{method} {path} (not an operation)", {"405": "/components/responses/MethodNotAllowed"}
        return f"{method} {path} (unknown route)", {"404": "/components/responses/NotFound"}

    def check(self, ex: Exchange, resp: c.Response, keys: dict[str, str]) -> list[str]:
        problems: list[str] = []
        label, documented = self.responses_for(ex.method, ex.path)
        if resp.status != ex.expect_status:
            problems.append(f"status {resp.status}, expected {ex.expect_status}")
        if str(resp.status) not in documented:
            problems.append(f"status {resp.status} is not documented for {label} (documented: {sorted(documented)})")
            return problems + self._describe(resp)
        try:
            resp_ptr, resp_obj = self.schemas.follow(documented[str(resp.status)])
        except (KeyError, ValueError) as exc:
            return problems + [f"document error: {exc}"]

        # headers documented as required
        for hname, hobj in (resp_obj.get("headers") or {}).items():
            _, hobj = self.schemas.follow(f"{resp_ptr}/headers/{c.pointer_escape(hname)}")
            if hobj.get("required") and resp.header(hname) is None:
                problems.append(f"documented required header {hname} is missing")

        # content type
        content = resp_obj.get("content") or {}
        parsed: Any = None
        if not content:
            if resp.body:
                problems.append(f"documented without content but body is {resp.body[:100]!r}")
        elif resp.media_type not in content:
            problems.append(f"Content-Type {resp.header('Content-Type')!r} is not documented {sorted(content)}")
        else:
            schema_ptr = f"{resp_ptr}/content/{c.pointer_escape(resp.media_type)}/schema"
            if resp.media_type == "application/json" or resp.media_type.endswith("+json"):
                try:
                    parsed = json.loads(resp.body)
                except ValueError as exc:
                    problems.append(f"body is not JSON ({exc}): {resp.body[:200]!r}")
            else:
                parsed = resp.body.decode("utf-8", "replace")
            if parsed is not None and "schema" in content[resp.media_type]:
                errs = self.schemas.errors(schema_ptr, parsed)
                problems += [f"response schema: {e}" for e in errs[:5]]

        # problem details
        if resp.status >= 400 and isinstance(parsed, dict):
            if ex.expect_type and parsed.get("type") != PROBLEM + ex.expect_type:
                problems.append(f"problem type {parsed.get('type')!r}, expected {PROBLEM + ex.expect_type!r}")
            if parsed.get("status") != resp.status:
                problems.append(f"problem status {parsed.get('status')!r} != HTTP status {resp.status}")
            errors = parsed.get("errors") if isinstance(parsed.get("errors"), list) else []
            pointers = [e.get("pointer") for e in errors if isinstance(e, dict)]
            if ex.expect_pointer is not None and ex.expect_pointer not in pointers:
                problems.append(f"expected pointer {ex.expect_pointer!r} in errors, got {pointers!r}")
            texts = [("detail", parsed.get("detail")), ("title", parsed.get("title"))]
            texts += [(f"errors[{i}].detail", e.get("detail")) for i, e in enumerate(errors) if isinstance(e, dict)]
            canaries = list(ex.canaries)
            if isinstance(ex.body, (dict, list)):
                canaries += string_leaves(ex.body)
            for where, text in texts:
                if not isinstance(text, str):
                    continue
                for canary in canaries:
                    if canary in text:
                        problems.append(f"{where} echoes submitted value {canary[:40]!r}: {text[:160]!r}")
        elif resp.status >= 400 and parsed is None and resp.media_type.endswith("json"):
            pass  # already reported as not JSON

        if ex.extra is not None and not problems:
            problems += ex.extra(ex, resp, parsed)

        # the request body against the request schema
        if ex.schema is not None:
            instance = ex.body
            if isinstance(instance, (bytes, str)):
                instance = json.loads(instance)  # table entries with schema checks are well-formed JSON
            req_errs = self.schemas.errors(REQUEST_SCHEMA, instance)
            if ex.schema in ("valid", "semantic") and req_errs:
                problems.append(f"request should satisfy the request schema ({ex.schema}) but: {req_errs[:3]}")
            if ex.schema == "invalid" and not req_errs:
                problems.append("request was rejected by the server but satisfies the request schema")
        return problems

    def _describe(self, resp: c.Response) -> list[str]:
        return [f"(Content-Type {resp.header('Content-Type')!r}, body {resp.body[:200]!r})"]


# ---------------------------------------------------------------------------

def restrict_perspectives(data_dir: str, tenant: str, perspectives: list[str]) -> None:
    path = os.path.join(data_dir, "tenants.json")
    c.check(os.path.isfile(path), f"{path} does not exist")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    tenants = doc.get("tenants") if isinstance(doc, dict) else None
    c.check(isinstance(tenants, list), f"{path}: expected {{\"tenants\": [...]}}")
    found = [t for t in tenants if isinstance(t, dict) and t.get("name") == tenant]
    c.check(len(found) == 1, f"{path}: expected one tenant named {tenant!r}, found {len(found)}")
    c.check("perspectives" in found[0], f"{path}: tenant {tenant!r} has no `perspectives` member")
    found[0]["perspectives"] = perspectives
    tmp = path + ".blackbox-tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
    os.replace(tmp, path)


def compare_with_checkout(served: dict) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, "..", "..", "Sources", "VigilServer", "Resources", "openapi.json"))
    if not os.path.isfile(path):
        c.log(f"  (no {path}; skipping comparison with the checkout)")
        return
    with open(path, encoding="utf-8") as fh:
        on_disk = json.load(fh)
    c.check(on_disk == served, f"GET /openapi.json differs from {path} (stale build?)")
    c.log(f"  served document equals {os.path.relpath(path)}")


def run(args: Any) -> None:
    from openapi_spec_validator import validate

    data_dir = c.make_temp_dir("vigil-contract-")
    server = c.Server(args.vigil, data_dir, name="contract")
    server.start()
    server.wait_ready()
    demo_key = c.read_demo_key(data_dir)
    server.terminate()

    sendonly_key = c.create_tenant(args.vigil, data_dir, "sendonly")
    restrict_perspectives(data_dir, "sendonly", ["sending"])

    server.start()
    server.wait_ready()
    c.log(f"server on port {server.port}, data dir {data_dir}")

    resp = c.request(server.port, "GET", "/openapi.json")
    c.check(resp.status == 200, f"GET /openapi.json returned {resp.status}: {resp.body[:300]!r}")
    c.check(resp.media_type == "application/json",
            f"GET /openapi.json Content-Type is {resp.header('Content-Type')!r}, expected application/json")
    try:
        doc = resp.json()
    except ValueError as exc:
        c.fail(f"GET /openapi.json is not JSON: {exc}")
    try:
        validate(doc)
    except Exception as exc:  # noqa: BLE001 - any validator error is a failure
        c.fail(f"openapi-spec-validator rejects the served document: {exc}")
    c.check(doc.get("openapi", "").startswith("3.1."), f"openapi version {doc.get('openapi')!r}, expected 3.1.x")
    c.log("  served document passes openapi-spec-validator")
    compare_with_checkout(doc)

    contract = Contract(doc)
    # the document's own examples must satisfy its schemas
    op = doc["paths"][SCORE]["post"]
    for name, example in (op["requestBody"]["content"][JSON].get("examples") or {}).items():
        errs = contract.schemas.errors(REQUEST_SCHEMA, example.get("value"))
        c.check(not errs, f"request example {name!r} violates the request schema: {errs}")
    for name, example in (op["responses"]["200"]["content"][JSON].get("examples") or {}).items():
        errs = contract.schemas.errors("/paths/~1v1~1payments~1score/post/responses/200/content/application~1json/schema",
                                       example.get("value"))
        c.check(not errs, f"response example {name!r} violates the response schema: {errs}")

    keys = {"demo": demo_key, "sendonly": sendonly_key}
    table = build_table()
    failures: list[tuple[str, list[str]]] = []
    width = max(len(ex.name) for ex in table)
    for ex in table:
        headers = dict(ex.headers)
        if ex.key is not None:
            headers.setdefault("Authorization", f"Bearer {keys.get(ex.key, ex.key)}")
        if ex.content_type is not None:
            headers["Content-Type"] = ex.content_type
        body = ex.body
        try:
            resp = c.request(server.port, ex.method, ex.path, body=body, headers=headers)
        except (OSError, Exception) as exc:  # noqa: BLE001
            problems = [f"request failed: {exc!r}"]
            failures.append((ex.name, problems))
            c.log(f"FAIL {ex.name:<{width}}  {ex.method} {ex.path} -> no response: {exc!r}")
            if not server.running():
                c.fail(f"server died\n{server.output_tail()}")
            continue
        problems = contract.check(ex, resp, keys)
        verdict = "ok  " if not problems else "FAIL"
        c.log(f"{verdict} {ex.name:<{width}}  {ex.method} {ex.path} -> {resp.status} {resp.media_type}")
        for p in problems:
            c.log(f"       - {p}")
        if problems:
            failures.append((ex.name, problems))

    c.check(server.running(), f"server died during the run\n{server.output_tail()}")
    code = server.terminate()
    if code != 0:
        c.log(f"  note: server exit status after SIGTERM was {code}")
    c.log(f"summary: {len(table) - len(failures)}/{len(table)} exchanges conform")
    if failures:
        c.fail(f"{len(failures)} exchange(s) do not conform: " + "; ".join(name for name, _ in failures))


if __name__ == "__main__":
    c.run_main("openapi_contract", __doc__, run)
