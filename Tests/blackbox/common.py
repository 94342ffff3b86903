"""Shared helpers for the Vigil black-box tests.

Standard library only (plus jsonschema/referencing, imported lazily by the
schema helpers).  Every script uses `run_main`, which parses `--vigil PATH`,
installs a watchdog so the run is bounded in time, turns failures into a
non-zero exit status with a clear message and always kills any server it
started.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as _dt
import http.client
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Iterable

HOST = "127.0.0.1"
LISTEN_RE = re.compile(rb"vigil: listening on (https?)://([^\s:/]+):(\d+)")
STARTUP_TIMEOUT = 20.0
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


class TestFailure(Exception):
    """A check failed; the message says which and why."""


def fail(message: str) -> None:
    raise TestFailure(message)


def check(condition: Any, message: str) -> None:
    if not condition:
        raise TestFailure(message)


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

_servers: set["Server"] = set()
_servers_lock = threading.Lock()
_temp_dirs: list[str] = []
_keep_temp = False


def _kill_all_servers() -> None:
    with _servers_lock:
        servers = list(_servers)
    for server in servers:
        try:
            server.kill()
        except Exception:  # noqa: BLE001 - best effort during teardown
            pass


atexit.register(_kill_all_servers)


class Server:
    """One `vigil serve` process on an ephemeral port.

    stdout and stderr are drained by background threads (so the server never
    blocks on a full pipe), kept in memory and optionally appended to files.
    """

    def __init__(self, vigil: str, data_dir: str, *, extra_args: Iterable[str] = (),
                 stdout_path: str | None = None, stderr_path: str | None = None,
                 name: str = "vigil", env: dict[str, str] | None = None) -> None:
        self.vigil = vigil
        self.env = env
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.scheme = "http"
        self.stdout_lines: list[bytes] = []
        self.stderr_lines: list[bytes] = []
        self._lock = threading.Lock()
        self._port_event = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ----------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "Server":
        check(self.proc is None or self.proc.poll() is not None, f"{self.name}: already running")
        args = [self.vigil, "serve", "--host", HOST, "--port", "0", "--data-dir", self.data_dir, *self.extra_args]
        self.port = None
        self._port_event = threading.Event()
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         env={**os.environ, **(self.env or {})})
        except OSError as exc:
            fail(f"cannot start {args!r}: {exc}")
        with _servers_lock:
            _servers.add(self)
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout_lines, self.stdout_path, True),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines, self.stderr_path, False),
                             daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + timeout
        while not self._port_event.is_set():
            if self.proc.poll() is not None:
                self._join_pumps()
                fail(f"{self.name}: `vigil serve` exited with status {self.proc.returncode} before printing "
                     f"'vigil: listening on ...'\n{self.output_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                fail(f"{self.name}: no 'vigil: listening on http://127.0.0.1:PORT' line on stdout within {timeout:.0f}s "
                     f"(is the line flushed when stdout is a pipe?)\n{self.output_tail()}")
            self._port_event.wait(0.05)
        return self

    def _pump(self, stream: Any, sink: list[bytes], path: str | None, is_stdout: bool) -> None:
        fh = open(path, "ab") if path else None
        try:
            for line in iter(stream.readline, b""):
                with self._lock:
                    sink.append(line)
                if fh:
                    fh.write(line)
                    fh.flush()
                if is_stdout and not self._port_event.is_set():
                    m = LISTEN_RE.search(line)
                    if m:
                        self.scheme = m.group(1).decode()
                        self.port = int(m.group(3))
                        self._port_event.set()
        finally:
            if fh:
                fh.close()
            try:
                stream.close()
            except OSError:
                pass

    def _join_pumps(self, timeout: float = 5.0) -> None:
        for t in self._threads:
            t.join(timeout)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Poll GET /ready until 200; returns seconds waited."""
        start = time.monotonic()
        last = "no response"
        while True:
            if not self.running():
                self._join_pumps()
                fail(f"{self.name}: server exited (status {self.proc.returncode if self.proc else '?'}) "
                     f"while waiting for /ready\n{self.output_tail()}")
            try:
                resp = request(self.port, "GET", "/ready", timeout=2.0)
                if resp.status == 200:
                    return time.monotonic() - start
                last = f"HTTP {resp.status}"
                if resp.status != 503:
                    fail(f"{self.name}: GET /ready returned {resp.status} (expected 503 then 200): {resp.body[:300]!r}")
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            if time.monotonic() - start > timeout:
                fail(f"{self.name}: GET /ready not 200 within {timeout:.0f}s (last: {last})\n{self.output_tail()}")
            time.sleep(0.05)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM (graceful); SIGKILL and fail if it does not exit in time. Returns the exit status."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                fail(f"{self.name}: did not exit within {timeout:.0f}s of SIGTERM\n{self.output_tail()}")
        self._join_pumps()
        self._forget()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL (kill -9) this process only and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._join_pumps(2.0)
        self._forget()

    def _forget(self) -> None:
        with _servers_lock:
            _servers.discard(self)

    def output_tail(self, n: int = 25) -> str:
        with self._lock:
            out = b"".join(self.stdout_lines[-n:]).decode("utf-8", "replace")
            err = b"".join(self.stderr_lines[-n:]).decode("utf-8", "replace")
        return f"--- server stdout (tail) ---\n{out}--- server stderr (tail) ---\n{err}---"


def run_cli(vigil: str, args: list[str], *, timeout: float = 30.0, check_status: bool = True) -> subprocess.CompletedProcess:
    cmd = [vigil, *args]
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"`{' '.join(cmd)}` did not finish within {timeout:.0f}s")
    except OSError as exc:
        fail(f"cannot run `{' '.join(cmd)}`: {exc}")
    if check_status and cp.returncode != 0:
        fail(f"`{' '.join(cmd)}` exited with {cp.returncode}\nstdout: {cp.stdout[-2000:]!r}\nstderr: {cp.stderr[-2000:]!r}")
    return cp


def init_data_dir(vigil: str, data_dir: str) -> None:
    """Sets a data directory up as an operator does: start `vigil serve` on it once, then stop it. The admin verbs
    refuse a directory that `vigil serve` has not set up."""
    server = Server(vigil, data_dir, name="init").start()
    server.wait_ready()
    check(server.terminate() == 0, f"`vigil serve --data-dir {data_dir}` did not stop cleanly")


def create_tenant(vigil: str, data_dir: str, name: str) -> str:
    cp = run_cli(vigil, ["tenant", "create", name, "--data-dir", data_dir])
    lines = [ln.strip() for ln in cp.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
    check(len(lines) == 1, f"`vigil tenant create {name}` should print exactly one stdout line (the key), got {lines!r}")
    return lines[0]


def read_demo_key(data_dir: str) -> str:
    path = os.path.join(data_dir, "demo.key")
    check(os.path.isfile(path), f"{path} was not created on first start")
    with open(path, encoding="utf-8") as fh:
        key = fh.read().strip()
    check(key and "\n" not in key, f"{path} should contain exactly one line, got {key!r}")
    return key


def export_events(vigil: str, data_dir: str, timeout: float = 30.0) -> tuple[list[dict], bytes, bytes]:
    """Runs `vigil events export`; returns (scored-payment records, raw stdout, raw stderr).

    Records with a `kind` (a duplicate answered: docs/event-log.md) are checked and left out; `export_log` returns
    them too."""
    records, _, raw, err = export_log(vigil, data_dir, timeout)
    return records, raw, err


def export_intake(vigil: str, data_dir: str, timeout: float = 30.0) -> list[dict]:
    """Runs `vigil events export`; returns the loaded daily-file records (`"kind":"intake"`), in log order."""
    export_log(vigil, data_dir, timeout)
    cp = run_cli(vigil, ["events", "export", "--data-dir", data_dir], timeout=timeout)
    return [rec for rec in (json.loads(line) for line in cp.stdout.splitlines() if line.strip()) if rec.get("kind") == "intake"]


def export_shadows(vigil: str, data_dir: str, timeout: float = 30.0) -> list[dict]:
    """Runs `vigil events export`; returns the challengers' shadow records (`"kind":"shadow"`), in log order."""
    export_log(vigil, data_dir, timeout)
    cp = run_cli(vigil, ["events", "export", "--data-dir", data_dir], timeout=timeout)
    return [rec for rec in (json.loads(line) for line in cp.stdout.splitlines() if line.strip()) if rec.get("kind") == "shadow"]


def export_labels(vigil: str, data_dir: str, timeout: float = 30.0) -> list[dict]:
    """Runs `vigil events export`; returns the run-time label records (`"kind":"label"`), in log order."""
    export_log(vigil, data_dir, timeout)
    cp = run_cli(vigil, ["events", "export", "--data-dir", data_dir], timeout=timeout)
    return [rec for rec in (json.loads(line) for line in cp.stdout.splitlines() if line.strip()) if rec.get("kind") == "label"]


def export_log(vigil: str, data_dir: str, timeout: float = 30.0) -> tuple[list[dict], list[dict], bytes, bytes]:
    """Runs `vigil events export`; returns (scored-payment records, duplicate-answered records, raw stdout, raw stderr)."""
    cp = run_cli(vigil, ["events", "export", "--data-dir", data_dir], timeout=timeout)
    records = []
    answered = []
    for n, line in enumerate(cp.stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            fail(f"events export line {n} is not JSON ({exc}): {line[:200]!r}")
        check(isinstance(rec, dict), f"events export line {n} is not a JSON object: {line[:200]!r}")
        if rec.get("kind") == "intake":
            # A loaded daily-file record (docs/event-log.md): checked here, returned by `export_intake`.
            check(set(rec) == {"sequence", "kind", "tenant", "fileId", "row", "loadedAt", "record"},
                  f"events export line {n}: an intake record has other members: {line[:300]!r}")
            check(isinstance(rec["record"], dict) and isinstance(rec["record"].get("type"), str),
                  f"events export line {n}: an intake record without a record type: {line[:300]!r}")
            continue
        if rec.get("kind") == "shadow":
            # A challenger's score (docs/models.md): checked here, returned by `export_shadows`.
            check(set(rec) == {"sequence", "kind", "tenant", "paymentId", "scoreId", "receivedAt", "modelVersion", "score",
                               "probability"}, f"events export line {n}: a shadow record has other members: {line[:300]!r}")
            continue
        if rec.get("kind") == "label":
            # A fraud report or outcome received at run time (docs/labels.md): checked here, returned by `export_labels`.
            check(set(rec) == {"sequence", "kind", "tenant", "receivedAt", "source", "record"},
                  f"events export line {n}: a label record has other members: {line[:300]!r}")
            check(rec["source"] in ("api", "pacs.002", "camt.056") and rec["record"].get("type") in ("fraudReport", "status"),
                  f"events export line {n}: a label of an unknown source or type: {line[:300]!r}")
            continue
        if "kind" in rec:
            check(rec["kind"] == "duplicateAnswered", f"events export line {n}: unknown kind: {line[:300]!r}")
            check(set(rec) == {"sequence", "kind", "tenant", "paymentId", "receivedAt", "originalScoreId"},
                  f"events export line {n}: a duplicate-answered record has other members: {line[:300]!r}")
            answered.append(rec)
            continue
        for key, typ in (("sequence", int), ("tenant", str), ("paymentId", str), ("response", dict)):
            check(isinstance(rec.get(key), typ) and not isinstance(rec.get(key), bool),
                  f"events export line {n}: `{key}` missing or not {typ.__name__}: {line[:300]!r}")
        for key in ("scoreId", "score", "decision"):
            check(key in rec["response"], f"events export line {n}: response lacks `{key}`: {line[:300]!r}")
        records.append(rec)
    return records, answered, cp.stdout, cp.stderr


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Response:
    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)


def _encode_body(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, *,
            timeout: float = 10.0) -> Response:
    """One request on a fresh connection (Connection: close).

    Written on a raw socket so that an early response (e.g. 413 while the
    body is still being sent) is still read: send errors are swallowed and
    the response is parsed from whatever the server wrote.
    """
    data = _encode_body(body)
    hdrs = {"Host": f"{HOST}:{port}", "Connection": "close"}
    hdrs.update(headers or {})
    if data is not None or method in ("POST", "PUT", "PATCH"):
        hdrs.setdefault("Content-Length", str(len(data or b"")))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        send_error: Exception | None = None
        try:
            sock.sendall(head.encode("latin-1") + (data or b""))
        except OSError as exc:  # server may answer and close before reading the whole body
            send_error = exc
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
        except (OSError, http.client.HTTPException) as exc:
            if send_error is not None:
                raise ConnectionError(f"send failed ({send_error!r}) and no response could be read ({exc!r})") from exc
            raise
        body_bytes = resp.read()
        return Response(resp.status, resp.reason, resp.headers, body_bytes)
    finally:
        sock.close()


def score_headers(key: str | None, content_type: str | None = "application/json") -> dict[str, str]:
    h = {}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    if content_type is not None:
        h["Content-Type"] = content_type
    return h


class KeepAliveClient:
    """A persistent HTTP/1.1 connection (http.client) for load tests."""

    def __init__(self, port: int, key: str, timeout: float = 10.0) -> None:
        self.port = port
        self.key = key
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=body,
                          headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"})
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, data

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------------------
# Test data
# ---------------------------------------------------------------------------

def _iban_digits(s: str) -> str:
    return "".join(str(int(c, 36)) for c in s)


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as digits) mod 97."""
    return f"{98 - int(_iban_digits(bban + country + '00')) % 97:02d}"


def make_iban(country: str, bban: str) -> str:
    return country + iban_check_digits(country, bban) + bban


def iban_is_valid(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    return int(_iban_digits(iban[4:] + iban[:4])) % 97 == 1


def corrupt_iban_checksum(iban: str) -> str:
    """Same IBAN with different (wrong) check digits; still matches the pattern."""
    cd = int(iban[2:4])
    bad = f"{(cd + 1) if cd < 98 else 2:02d}"
    out = iban[:2] + bad + iban[4:]
    assert not iban_is_valid(out)
    return out


def spaced_iban(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def rfc3339_now(offset_seconds: float = 0.0) -> str:
    t = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=offset_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def random_gb_iban(rng: random.Random) -> str:
    bank = rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL", "WEST", "SRLG", "MONZ"])
    return make_iban("GB", bank + f"{rng.randrange(10**6):06d}" + f"{rng.randrange(10**8):08d}")


def random_eu_iban(rng: random.Random) -> str:
    country = rng.choice(["DE", "FR", "NL", "ES", "IT", "BE"])
    if country == "DE":
        bban = f"{rng.randrange(10**8):08d}{rng.randrange(10**10):010d}"
    elif country == "FR":
        bban = f"{rng.randrange(10**5):05d}{rng.randrange(10**5):05d}{rng.randrange(10**11):011d}{rng.randrange(100):02d}"
    elif country == "NL":
        bban = rng.choice(["ABNA", "INGB", "RABO", "SNSB"]) + f"{rng.randrange(10**10):010d}"
    elif country == "ES":
        bban = f"{rng.randrange(10**20):020d}"
    elif country == "IT":
        bban = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + f"{rng.randrange(10**10):010d}" + f"{rng.randrange(10**12):012d}"
    else:  # BE
        bban = f"{rng.randrange(10**12):012d}"
    return make_iban(country, bban)


# ---------------------------------------------------------------------------
# Schema helpers (jsonschema + referencing over the whole OpenAPI document)
# ---------------------------------------------------------------------------

SPEC_BASE_URI = "https://vigil.invalid/openapi.json"
_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")


def is_rfc3339(value: str) -> bool:
    m = _RFC3339_RE.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def make_format_checker() -> Any:
    """A FormatChecker asserting the formats the document uses (no optional deps needed)."""
    import jsonschema

    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("date-time")
    def _date_time(v: object) -> bool:
        return not isinstance(v, str) or is_rfc3339(v)

    @fc.checks("ipv4")
    def _ipv4(v: object) -> bool:
        if not isinstance(v, str):
            return True
        try:
            ipaddress.IPv4Address(v)
            return True
        except ValueError:
            return False

    @fc.checks("ipv6")
    def _ipv6(v: object) -> bool:
        if not isinstance(v, str):
            return True
        try:
            ipaddress.IPv6Address(v)
            return True
        except ValueError:
            return False

    @fc.checks("uuid")
    def _uuid(v: object) -> bool:
        if not isinstance(v, str):
            return True
        return bool(re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", v))

    @fc.checks("uri")
    def _uri(v: object) -> bool:
        return not isinstance(v, str) or bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", v))

    @fc.checks("json-pointer")
    def _json_pointer(v: object) -> bool:
        return not isinstance(v, str) or bool(re.fullmatch(r"(/([^~/]|~[01])*)*", v))

    return fc


def pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SpecSchemas:
    """Validates instances against schemas located anywhere in the document by JSON pointer."""

    def __init__(self, doc: dict) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        self.doc = doc
        self._validator_cls = Draft202012Validator
        self.registry = Registry().with_resource(SPEC_BASE_URI, DRAFT202012.create_resource(doc))
        self.format_checker = make_format_checker()
        self._cache: dict[str, Any] = {}

    def resolve(self, pointer: str) -> Any:
        node: Any = self.doc
        if pointer in ("", "#"):
            return node
        for raw in pointer.lstrip("#").lstrip("/").split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(token)]
            else:
                if token not in node:
                    raise KeyError(f"{pointer!r}: no {token!r}")
                node = node[token]
        return node

    def follow(self, pointer: str) -> tuple[str, Any]:
        """Resolves a node and any local $ref chain; returns (final pointer, node)."""
        node = self.resolve(pointer)
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#") or ref in seen:
                raise ValueError(f"unsupported or cyclic $ref {ref!r} at {pointer!r}")
            seen.add(ref)
            pointer = ref[1:]
            node = self.resolve(pointer)
        return pointer, node

    def validator(self, pointer: str) -> Any:
        if pointer not in self._cache:
            schema = {"$ref": f"{SPEC_BASE_URI}#{pointer}"}
            self._cache[pointer] = self._validator_cls(schema, registry=self.registry,
                                                       format_checker=self.format_checker)
        return self._cache[pointer]

    def errors(self, pointer: str, instance: Any) -> list[str]:
        out = []
        for err in sorted(self.validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = "".join("/" + pointer_escape(str(p)) for p in err.absolute_path) or "(root)"
            out.append(f"{where}: {err.message}")
        return out


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def make_temp_dir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    _temp_dirs.append(path)
    return path


def _cleanup_temp_dirs() -> None:
    for path in _temp_dirs:
        if _keep_temp:
            log(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _start_watchdog(seconds: float, name: str) -> None:
    def fire() -> None:
        sys.stdout.write(f"FAIL: {name}: timed out after {seconds:.0f}s\n")
        sys.stdout.flush()
        _kill_all_servers()
        _cleanup_temp_dirs()
        os._exit(3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def run_main(name: str, description: str, body: Callable[[argparse.Namespace], None],
             *, time_limit: float = 58.0,
             options: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """Parses `--vigil PATH`, `--keep` and whatever `options` adds to the parser, then runs `body` bounded by
    `time_limit` seconds."""
    global _keep_temp
    parser = argparse.ArgumentParser(prog=name, description=description)
    parser.add_argument("--vigil", required=True, help="path to the vigil executable")
    parser.add_argument("--keep", action="store_true", help="keep temporary data directories for inspection")
    if options is not None:
        options(parser)
    args = parser.parse_args()
    _keep_temp = args.keep
    vigil = os.path.abspath(args.vigil)
    if not (os.path.isfile(vigil) and os.access(vigil, os.X_OK)):
        print(f"FAIL: {name}: --vigil {args.vigil!r} is not an executable file", flush=True)
        sys.exit(2)
    args.vigil = vigil

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _start_watchdog(time_limit, name)
    started = time.monotonic()
    status = 1
    try:
        body(args)
        status = 0
    except TestFailure as exc:
        print(f"FAIL: {name}: {exc}", flush=True)
    except KeyboardInterrupt:
        print(f"FAIL: {name}: interrupted", flush=True)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, SystemExit):
            print(f"FAIL: {name}: terminated", flush=True)
        else:
            traceback.print_exc()
            print(f"FAIL: {name}: unexpected error {exc!r}", flush=True)
        status = 2
    finally:
        _kill_all_servers()
        _cleanup_temp_dirs()
    if status == 0:
        print(f"PASS: {name} ({time.monotonic() - started:.1f}s)", flush=True)
    sys.stdout.flush()
    os._exit(status)  # do not wait for stray daemon threads


def new_payment_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
