#!/usr/bin/env python3
"""Black-box test: deploy/haproxy.cfg, run by a real HAProxy, balances two Vigil nodes and follows their health.

    python3 Tests/blackbox/load_balancer.py --vigil .build/debug/vigil

The example is used as shipped, with only its addresses made local: the TLS listener on a free loopback port with a
throwaway certificate, and its two `server` lines pointing at two `vigil serve` nodes. The nodes share one set of
tenants and keys (node B's data directory is a copy of node A's, made before either scores).

1. `haproxy -c` accepts the example; HAProxy serves it over TLS.
2. Payments sent through it, one connection each, are scored by both nodes.
3. Node B is killed with SIGKILL: once the `/ready` checks have taken it out, every payment is scored by node A,
   none is lost to the dead node.
4. Node B restarts on its data directory: once its checks pass again, it scores payments again.

Needs `haproxy` (scripts/test installs Debian's) and `openssl`.
"""
from __future__ import annotations

import http.client
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import time

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCORE = "/v1/payments/score"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((c.HOST, 0))
        return s.getsockname()[1]


def local_config(example: str, lb_port: int, pem: str, node_ports: list[int]) -> str:
    """The example with its listener and its two servers on loopback, and its global `maxconn` within this process's
    descriptor limit (HAProxy needs two descriptors a connection and may raise only the soft limit: a sandbox's hard
    limit can be below the 40,000 that `maxconn 20000` asks); everything else as shipped."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    maxconn = 20000 if hard == resource.RLIM_INFINITY else min(20000, (hard - 200) // 2)
    example, globals_ = re.subn(r"(?m)^(\s*)maxconn 20000$", rf"\g<1>maxconn {maxconn}", example)
    c.check(globals_ == 1, f"deploy/haproxy.cfg should have one global `maxconn 20000` line, found {globals_}")
    text, binds = re.subn(r"(?m)^(\s*)bind :443 ssl crt \S+", rf"\g<1>bind {c.HOST}:{lb_port} ssl crt {pem}", example)
    c.check(binds == 1, f"deploy/haproxy.cfg should have one `bind :443 ssl crt …` line, found {binds}")
    for n, port in enumerate(node_ports, start=1):
        text, servers = re.subn(rf"(?m)^(\s*server node{n}) \S+:8080 check$", rf"\g<1> {c.HOST}:{port} check", text)
        c.check(servers == 1, f"deploy/haproxy.cfg should have one `server node{n} …:8080 check` line, found {servers}")
    return text


def decisions(port: int) -> int:
    """Payments a node has scored, from its own `vigil_decisions_total`."""
    resp = c.request(port, "GET", "/metrics")
    c.check(resp.status == 200, f"/metrics on {port}: {resp.status}")
    total = 0.0
    for line in resp.body.decode().splitlines():
        if line.startswith("vigil_decisions_total"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


class Balancer:
    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE
        self.sent = 0

    def score(self) -> int:
        """One payment on a new TLS connection (so HAProxy balances each); the status, or 0 when the connection fails."""
        self.sent += 1
        body = (
            '{"paymentId":"lb-%06d","perspective":"sending","type":"push","scheme":"FPS","amount":"25.00",'
            '"currency":"GBP","createdAt":"%s","debtor":{"account":{"sortCode":"404142","accountNumber":"%08d"}},'
            '"creditor":{"account":{"iban":"GB82WEST12345698765432"}}}' % (self.sent, c.rfc3339_now(), self.sent)
        )
        conn = http.client.HTTPSConnection(c.HOST, self.port, timeout=10, context=self.context)
        try:
            conn.request("POST", SCORE, body=body.encode(), headers=c.score_headers(self.key))
            resp = conn.getresponse()
            resp.read()
            return resp.status
        except (OSError, http.client.HTTPException):
            return 0
        finally:
            conn.close()


def until(what: str, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        c.check(time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def main(args) -> None:
    haproxy = shutil.which("haproxy")
    c.check(haproxy is not None, "haproxy is not installed (scripts/test installs Debian's haproxy)")
    tmp = c.make_temp_dir("vigil-lb-")

    data_a, data_b = os.path.join(tmp, "node-a"), os.path.join(tmp, "node-b")
    c.init_data_dir(args.vigil, data_a)
    shutil.copytree(data_a, data_b)
    key = c.read_demo_key(data_a)
    node_a = c.Server(args.vigil, data_a, name="node-a").start()
    node_b = c.Server(args.vigil, data_b, name="node-b").start()
    node_a.wait_ready()
    node_b.wait_ready()

    pem = os.path.join(tmp, "lb.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", pem + ".key", "-out", pem + ".crt"],
        check=True, capture_output=True, timeout=30,
    )
    with open(pem, "wb") as out:
        for part in (pem + ".crt", pem + ".key"):
            with open(part, "rb") as f:
                out.write(f.read())

    lb_port = free_port()
    with open(os.path.join(ROOT, "deploy", "haproxy.cfg")) as f:
        config = local_config(f.read(), lb_port, pem, [node_a.port, node_b.port])
    config_path = os.path.join(tmp, "haproxy.cfg")
    with open(config_path, "w") as f:
        f.write(config)
    check = subprocess.run([haproxy, "-c", "-f", config_path], capture_output=True, timeout=30)
    c.check(check.returncode == 0, f"haproxy -c refuses the example: {check.stdout[-800:]!r} {check.stderr[-800:]!r}")
    c.log("haproxy -c accepts deploy/haproxy.cfg (listener and servers on loopback)")

    lb_log = open(os.path.join(tmp, "haproxy.log"), "wb")
    lb = subprocess.Popen([haproxy, "-db", "-f", config_path], stdin=subprocess.DEVNULL, stdout=lb_log,
                          stderr=subprocess.STDOUT, start_new_session=True)
    try:
        balancer = Balancer(lb_port, key)
        until("HAProxy to accept TLS and pass a payment", lambda: balancer.score() == 200)

        before_a, before_b = decisions(node_a.port), decisions(node_b.port)
        statuses = [balancer.score() for _ in range(40)]
        c.check(statuses == [200] * 40, f"through HAProxy, every payment should score: {statuses}")
        got_a, got_b = decisions(node_a.port) - before_a, decisions(node_b.port) - before_b
        c.check(got_a + got_b == 40 and got_a > 0 and got_b > 0, f"both nodes should score: A {got_a}, B {got_b}")
        c.log(f"balanced over TLS: node A scored {got_a}, node B {got_b} of 40")

        node_b.kill()
        # The checks take a node out after two failures a second apart; until then a payment may meet the dead node.
        until("the /ready checks to take the killed node out",
              lambda: all(balancer.score() == 200 for _ in range(10)), timeout=20)
        before_a = decisions(node_a.port)
        statuses = [balancer.score() for _ in range(40)]
        c.check(statuses == [200] * 40, f"with node B dead, every payment should score on node A: {statuses}")
        c.check(decisions(node_a.port) - before_a == 40, "node A should have scored all 40")
        c.log("node B killed: taken out by the /ready checks, node A scores every payment")

        # Back on the port HAProxy knows (the last --port wins over the test harness's --port 0).
        node_b = c.Server(args.vigil, data_b, name="node-b", extra_args=["--port", str(node_b.port)]).start()
        node_b.wait_ready()
        restarted = decisions(node_b.port)

        def b_serves_again() -> bool:
            c.check(balancer.score() == 200, "a payment failed while node B came back")
            return decisions(node_b.port) > restarted

        until("node B to pass three checks and score again", b_serves_again, timeout=30)
        c.log("node B restarted on its data directory: back in after its checks pass, scoring again")
    finally:
        lb.terminate()
        try:
            lb.wait(timeout=10)
        except subprocess.TimeoutExpired:
            lb.kill()
            lb.wait(timeout=10)
        lb_log.close()
    node_a.terminate()
    node_b.terminate()


if __name__ == "__main__":
    c.run_main("load_balancer", __doc__, main, time_limit=150.0)
