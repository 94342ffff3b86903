#!/usr/bin/env python3
"""Black-box test of the server's defences against slow and idle clients, its connection cap, and a port in use.

    python3 Tests/blackbox/server_limits.py --vigil .build/debug/vigil

With short limits set through the environment (head 1 s, body 2 s, idle 2 s), raw sockets check that the server
closes:
  - a connection that sent half a request line and went quiet;
  - a connection that trickles its request head a byte at a time, each byte well inside the limit (the head has a
    deadline, not an inactivity timer);
  - a request whose body trickles in after its head;
  - a kept-alive connection idle after its response (a second request sent at once is still served);
and that /metrics counts each kind in vigil_connections_timed_out_total{phase}.

Over TLS (a throwaway self-signed certificate), a connection that starts a handshake and stalls is closed by the
same header timeout, and a completed handshake is served.

With VIGIL_MAX_CONNECTIONS=3, of four connections opened together exactly one is closed at once, the other three
are served, and vigil_connections_refused_total counts the refusal.

With stderr a pipe whose reader has gone, a server logging a debug line per payment keeps serving and counts the
lines in vigil_log_lines_dropped_total (SIGPIPE is ignored; a failed log write is dropped, never fatal).

With the port held by another socket, `vigil serve --port P` exits non-zero with "port P on 127.0.0.1 is already in
use", before it creates the data directory or replays anything.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

CLOSE_BOUND = 15.0  # seconds a stalled connection may stay open before the test calls it a failure


def connect(port: int) -> socket.socket:
    sock = socket.create_connection((c.HOST, port), timeout=5.0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_by_server(sock: socket.socket, bound: float = CLOSE_BOUND) -> bool:
    """Reads until the server closes (EOF or reset); False if it is still open after `bound` seconds."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def trickle_until_closed(sock: socket.socket, data: bytes, interval: float) -> bool:
    """Sends `data` a byte every `interval` seconds; True if the server closes the connection before the end."""
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return True
        ready, _, _ = select.select([sock], [], [], interval)
        if ready:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return True
            if chunk == b"":
                return True
            c.fail(f"the server answered a request it had not fully received: {chunk[:200]!r}")
    return False


def read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        c.check(chunk, f"connection closed before a response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(body) < length:
        chunk = sock.recv(65536)
        c.check(chunk, "connection closed inside a response body")
        body += chunk
    return head + b"\r\n\r\n" + body


def metric(port: int, name: str, labels: str = "") -> float:
    text = c.request(port, "GET", "/metrics").body.decode()
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else r"(?:\{\})?") + r" (\S+)"
    match = re.search(r"(?m)^" + pattern + "$", text)
    c.check(match, f"/metrics has no {name}{{{labels}}}:\n{text[:2000]}")
    return float(match.group(1))


def check_timeouts(vigil: str) -> None:
    data = c.make_temp_dir("vigil-limits")
    server = c.Server(vigil, data, name="limits", env={
        "VIGIL_REQUEST_HEADER_TIMEOUT_SECONDS": "1",
        "VIGIL_REQUEST_BODY_TIMEOUT_SECONDS": "2",
        "VIGIL_IDLE_TIMEOUT_SECONDS": "2",
    }).start()
    server.wait_ready()
    port = server.port
    key = c.read_demo_key(data)

    half = connect(port)
    half.sendall(b"POST /v1/payments/sco")
    c.check(closed_by_server(half), "a connection with half a request line was still open after "
                                    f"{CLOSE_BOUND:.0f}s (header timeout 1s)")
    half.close()
    c.log("ok: half a request line, then silence: closed")

    slow_head = connect(port)
    head = b"GET /health HTTP/1.1\r\nHost: vigil\r\nX-Padding: " + b"a" * 60 + b"\r\n\r\n"
    c.check(trickle_until_closed(slow_head, head, 0.2),
            "a request head trickled a byte every 0.2s was served: the header timeout is an inactivity timer, "
            "not a deadline")
    slow_head.close()
    c.log("ok: a request head trickled byte by byte: closed before it was complete")

    slow_body = connect(port)
    slow_body.sendall((f"POST /v1/payments/score HTTP/1.1\r\nHost: vigil\r\nAuthorization: Bearer {key}\r\n"
                       "Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"paymentId\":").encode())
    c.check(trickle_until_closed(slow_body, b"\"" + b"x" * 100, 0.2),
            "a request body trickled a byte every 0.2s was still being read after its body timeout (2s)")
    slow_body.close()
    c.log("ok: a request body trickled after its head: closed")

    idle = connect(port)
    request = b"GET /health HTTP/1.1\r\nHost: vigil\r\n\r\n"
    idle.sendall(request)
    c.check(b" 200 " in read_response(idle).split(b"\r\n", 1)[0], "GET /health on a raw socket did not answer 200")
    idle.sendall(request)
    c.check(b" 200 " in read_response(idle).split(b"\r\n", 1)[0],
            "a second request at once on the kept-alive connection did not answer 200")
    c.check(closed_by_server(idle), f"a kept-alive connection idle after its response was still open after "
                                    f"{CLOSE_BOUND:.0f}s (idle timeout 2s)")
    idle.close()
    c.log("ok: keep-alive serves the next request at once, and an idle connection is closed")

    c.check(metric(port, "vigil_connections_timed_out_total", 'phase="header"') >= 2,
            "vigil_connections_timed_out_total{phase=\"header\"} did not count the two stalled heads")
    c.check(metric(port, "vigil_connections_timed_out_total", 'phase="body"') >= 1,
            "vigil_connections_timed_out_total{phase=\"body\"} did not count the stalled body")
    c.check(metric(port, "vigil_connections_timed_out_total", 'phase="idle"') >= 1,
            "vigil_connections_timed_out_total{phase=\"idle\"} did not count the idle connection")
    c.log("ok: /metrics counts header, body and idle timeouts")
    c.check(server.terminate() == 0, "the server did not exit 0 on SIGTERM")


def check_tls_handshake(vigil: str) -> None:
    c.check(shutil.which("openssl"), "openssl is needed for the TLS handshake check")
    tmp = c.make_temp_dir("vigil-tls-limits")
    cert, key = os.path.join(tmp, "server.pem"), os.path.join(tmp, "server.key")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, timeout=30)
    c.check(made.returncode == 0, f"openssl could not make a certificate: {made.stderr!r}")
    data = os.path.join(tmp, "data")
    server = c.Server(vigil, data, name="tls-limits", extra_args=["--tls-cert", cert, "--tls-key", key],
                      env={"VIGIL_REQUEST_HEADER_TIMEOUT_SECONDS": "1"}).start()
    port = server.port

    stalled = connect(port)
    stalled.sendall(b"\x16\x03\x01\x00")  # the first bytes of a ClientHello record, then nothing
    c.check(closed_by_server(stalled), f"a stalled TLS handshake was still open after {CLOSE_BOUND:.0f}s "
                                       "(header timeout 1s)")
    stalled.close()

    ctx = ssl.create_default_context(cafile=cert)
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection((c.HOST, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=c.HOST) as tls:
        tls.sendall(b"GET /health HTTP/1.1\r\nHost: vigil\r\n\r\n")
        c.check(b" 200 " in read_response(tls).split(b"\r\n", 1)[0], "GET /health over TLS did not answer 200")
    c.log("ok: a stalled TLS handshake is closed; a completed one is served")
    c.check(server.terminate() == 0, "the TLS server did not exit 0 on SIGTERM")


def server_side_connections(port: int) -> int:
    """Connections the server at `port` still holds open (its side ESTABLISHED, or CLOSE_WAIT: the client has closed
    and the server not yet), from /proc/net/tcp: what its connection cap counts, read without opening one."""
    held = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if int(local.split(":")[1], 16) == port and state in ("01", "08"):
                held += 1
    return held


def check_connection_cap(vigil: str) -> None:
    data = c.make_temp_dir("vigil-cap")
    server = c.Server(vigil, data, name="cap", env={"VIGIL_MAX_CONNECTIONS": "3"}).start()
    server.wait_ready()
    port = server.port
    # The readiness polls' connections must be gone from the server's count first: on a loaded machine one could
    # still hold a place, and a second of the four below would be refused (CI saw it).
    deadline = time.monotonic() + CLOSE_BOUND
    while server_side_connections(port) > 0:
        c.check(time.monotonic() < deadline, "the readiness checks' connections stayed open on the server")
        time.sleep(0.05)
    sockets = [connect(port) for _ in range(4)]
    refused: list[socket.socket] = []
    deadline = time.monotonic() + CLOSE_BOUND
    while not refused and time.monotonic() < deadline:
        ready, _, _ = select.select(sockets, [], [], 0.2)
        for sock in ready:
            try:
                if sock.recv(65536) == b"":
                    refused.append(sock)
            except ConnectionResetError:
                refused.append(sock)
    c.check(len(refused) == 1, f"{len(refused)} of 4 connections were closed at once with a cap of 3, not 1")
    for sock in sockets:
        if sock in refused:
            continue
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: vigil\r\n\r\n")
        c.check(b" 200 " in read_response(sock).split(b"\r\n", 1)[0],
                "a connection within the cap was not served")
    for sock in sockets:
        sock.close()
    c.log("ok: a connection past maxConnections is closed at once; the others are served")

    # The cap's places come back as the closed connections' channels close; /metrics needs one of them.
    deadline = time.monotonic() + CLOSE_BOUND
    while True:
        try:
            refusals = metric(port, "vigil_connections_refused_total")
            break
        except (OSError, c.http.client.HTTPException):
            c.check(time.monotonic() < deadline, "/metrics stayed unreachable after the capped connections closed")
            time.sleep(0.1)
    # At least the one above; a scrape attempted before the places came back is refused and counted too.
    c.check(refusals >= 1, f"vigil_connections_refused_total is {refusals}, expected at least 1")
    c.log("ok: vigil_connections_refused_total counts the refusal")
    c.check(server.terminate() == 0, "the server did not exit 0 on SIGTERM")


def check_closed_log_pipe(vigil: str) -> None:
    data = c.make_temp_dir("vigil-pipe")
    proc = subprocess.Popen([vigil, "serve", "--host", c.HOST, "--port", "0", "--data-dir", data],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "VIGIL_LOG_LEVEL": "debug"})
    try:
        assert proc.stdout is not None and proc.stderr is not None
        # The reader of stderr goes away, as a crashed log shipper's would.
        proc.stderr.close()
        line = proc.stdout.readline()
        match = c.LISTEN_RE.search(line)
        c.check(match, f"vigil serve did not print its address with stderr's reader gone: {line!r}")
        port = int(match.group(3))
        deadline = time.monotonic() + c.READY_TIMEOUT
        while c.request(port, "GET", "/ready").status != 200:
            c.check(time.monotonic() < deadline, "/ready not 200 in time")
            time.sleep(0.05)
        key = c.read_demo_key(data)
        body = {"paymentId": "pipe-0", "perspective": "sending", "type": "push", "scheme": "FPS", "amount": "12.50",
                "currency": "GBP", "createdAt": c.rfc3339_now(),
                "debtor": {"account": {"sortCode": "123456", "accountNumber": "12345678"}},
                "creditor": {"account": {"sortCode": "654321", "accountNumber": "87654321"}}}
        for n in range(20):
            body["paymentId"] = f"pipe-{n}"
            resp = c.request(port, "POST", "/v1/payments/score", body, c.score_headers(key))
            c.check(resp.status == 200, f"a payment with stderr's reader gone got {resp.status}: {resp.body[:300]!r}")
        c.check(proc.poll() is None, f"vigil serve died when stderr's reader went away (status {proc.returncode})")
        dropped = metric(port, "vigil_log_lines_dropped_total")
        c.check(dropped >= 20, f"vigil_log_lines_dropped_total is {dropped} after 20 debug lines to a closed pipe")
        c.log(f"ok: stderr's reader gone: still serving, {dropped:.0f} log lines dropped and counted")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, 9)
        proc.wait(10)


def check_port_in_use(vigil: str) -> None:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind((c.HOST, 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    data = os.path.join(c.make_temp_dir("vigil-port"), "data")
    try:
        result = subprocess.run([vigil, "serve", "--host", c.HOST, "--port", str(port), "--data-dir", data],
                                stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    finally:
        holder.close()
    stderr = result.stderr.decode(errors="replace")
    c.check(result.returncode != 0, f"vigil serve on a port in use exited {result.returncode}")
    c.check(f"port {port} on {c.HOST} is already in use" in stderr,
            f"vigil serve on a port in use did not say 'port {port} on {c.HOST} is already in use':\n{stderr}")
    c.check("bind(descriptor" not in stderr and "errno" not in stderr,
            f"the port-in-use message still carries the raw bind error:\n{stderr}")
    c.check("Recovery finished" not in stderr, f"vigil serve replayed the event log before binding:\n{stderr}")
    c.check(not os.path.exists(data), "vigil serve created the data directory before finding the port in use")
    c.log(f"ok: a port in use: exit {result.returncode}, 'port {port} on {c.HOST} is already in use', disk untouched")


def main(args) -> None:
    check_port_in_use(args.vigil)
    check_timeouts(args.vigil)
    check_tls_handshake(args.vigil)
    check_connection_cap(args.vigil)
    check_closed_log_pipe(args.vigil)


if __name__ == "__main__":
    c.run_main("server_limits", __doc__.splitlines()[0], main, time_limit=150.0)
