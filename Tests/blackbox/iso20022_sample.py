#!/usr/bin/env python3
"""Black-box test: `vigil iso20022 sample` writes a corpus that a running `vigil serve` scores and refuses as documented.

    python3 Tests/blackbox/iso20022_sample.py --vigil .build/debug/vigil

1. `vigil iso20022 sample` writes pacs.008 (XML and JSON, with --invalid the hostile and incomplete set), pacs.002
   and camt.056 messages, well-formed and deterministic for a seed; a bad argument writes nothing and exits non-zero.
2. A server scores every transaction of every pacs.008 over real HTTP (XML and JSON), takes the perspective from a
   single-perspective tenant, refuses a dual-perspective one without ?perspective=, and answers every invalid message
   with a 400 iso20022 problem (a missing element with its pointer).
3. No party name or account number of the messages appears in the server's output.
"""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

ROUTE = "/v1/iso20022/pacs.008"
NS = "{urn:iso:std:iso:20022:tech:xsd:pacs.008.001.10}"


def sample(vigil: str, out: str, *extra: str) -> str:
    cp = c.run_cli(vigil, ["iso20022", "sample", "--out", out, *extra], timeout=60)
    return cp.stdout.decode()


def body(args) -> None:
    vigil = args.vigil
    tmp = c.make_temp_dir("vigil-iso-")
    xml_dir, json_dir, other_dir = (os.path.join(tmp, name) for name in ("xml", "json", "other"))
    printed = sample(vigil, xml_dir, "--count", "3", "--transactions", "5", "--seed", "11", "--invalid")
    c.check("3 pacs.008 message(s) of 5 transaction(s)" in printed, f"unexpected summary {printed!r}")
    # Another seed: the same seed with another count simulates other payments under the same ids (409 reused).
    sample(vigil, json_dir, "--count", "2", "--transactions", "4", "--format", "json", "--seed", "12")
    sample(vigil, other_dir, "--kind", "pacs.002", "--count", "1")
    sample(vigil, other_dir, "--kind", "camt.056", "--format", "json", "--count", "1")
    again = os.path.join(tmp, "again")
    sample(vigil, again, "--count", "3", "--transactions", "5", "--seed", "11")
    for name in sorted(f for f in os.listdir(xml_dir) if f.endswith(".xml")):
        with open(os.path.join(xml_dir, name), "rb") as a, open(os.path.join(again, name), "rb") as b:
            c.check(a.read() == b.read(), f"{name} differs between two runs with the same seed")
    bad = c.run_cli(vigil, ["iso20022", "sample", "--kind", "pacs.009", "--out", os.path.join(tmp, "bad")], check_status=False)
    c.check(bad.returncode != 0 and b"--kind" in bad.stderr, f"--kind pacs.009 should fail naming --kind: {bad.stderr!r}")
    c.check(not os.path.exists(os.path.join(tmp, "bad")), "a refused sample command wrote files")

    messages = sorted(os.path.join(xml_dir, f) for f in os.listdir(xml_dir) if f.endswith(".xml"))
    c.check(len(messages) == 3, f"expected 3 pacs.008 files, got {messages}")
    canaries: set[str] = set()
    for path in messages:
        root = ET.parse(path).getroot()
        c.check(root.tag == NS + "Document", f"{path}: root {root.tag}")
        c.check(len(root.findall(f"{NS}FIToFICstmrCdtTrf/{NS}CdtTrfTxInf")) == 5, f"{path}: not 5 transactions")
        canaries |= {e.text for e in root.iter(NS + "Nm") if e.text and len(e.text) > 6}
        canaries |= {e.text for e in root.iter(NS + "IBAN") if e.text}
    for name in ("pacs.002-0001.xml", "camt.056-0001.json"):
        c.check(os.path.isfile(os.path.join(other_dir, name)), f"{name} was not written")
    ET.parse(os.path.join(other_dir, "pacs.002-0001.xml"))
    invalid_dir = os.path.join(xml_dir, "invalid")
    invalid = sorted(os.listdir(invalid_dir))
    c.check(len(invalid) >= 40 and "xxe-system-entity.xml" in invalid and "billion-laughs.xml" in invalid, f"invalid set {invalid}")

    data = c.make_temp_dir("vigil-iso-data-")
    c.init_data_dir(vigil, data)
    receiver = c.create_tenant(vigil, data, "receiver")
    c.run_cli(vigil, ["tenant", "perspectives", "receiver", "receiving", "--data-dir", data])
    server = c.Server(vigil, data, name="iso").start()
    server.wait_ready()
    demo = c.read_demo_key(data)
    try:
        for path in messages + sorted(os.path.join(json_dir, f) for f in os.listdir(json_dir)):
            media = "application/xml" if path.endswith(".xml") else "application/json"
            with open(path, "rb") as fh:
                message = fh.read()
            resp = c.request(server.port, "POST", ROUTE + "?perspective=sending", message, c.score_headers(demo, media))
            c.check(resp.status == 200, f"{path}: {resp.status} {resp.body[:300]!r}")
            results = resp.json()["results"]
            c.check(len(results) in (4, 5) and all(isinstance(r.get("score"), int) for r in results), f"{path}: {results}")
        with open(messages[0], "rb") as fh:
            message = fh.read()
        resp = c.request(server.port, "POST", ROUTE, message, c.score_headers(receiver, "text/xml"))
        c.check(resp.status == 200, f"single-perspective tenant: {resp.status} {resp.body[:300]!r}")
        resp = c.request(server.port, "POST", ROUTE, message, c.score_headers(demo, "application/xml"))
        c.check(resp.status == 400 and resp.json().get("type") == "urn:vigil:problem:perspective-required",
                f"dual-perspective tenant without ?perspective=: {resp.status} {resp.body[:300]!r}")
        for name in invalid:
            with open(os.path.join(invalid_dir, name), "rb") as fh:
                message = fh.read()
            media = "application/xml" if name.endswith(".xml") else "application/json"
            resp = c.request(server.port, "POST", ROUTE + "?perspective=sending", message, c.score_headers(demo, media))
            c.check(resp.status == 400 and resp.media_type == "application/problem+json", f"{name}: {resp.status} {resp.body[:300]!r}")
            problem = resp.json()
            c.check(problem["type"].startswith("urn:vigil:problem:iso20022-"), f"{name}: type {problem['type']}")
            if name.startswith("missing-"):
                c.check(problem["type"] == "urn:vigil:problem:iso20022-missing-element", f"{name}: {problem}")
                c.check(re.match(r"^/Document/FIToFICstmrCdtTrf/", problem["errors"][0]["pointer"]), f"{name}: {problem}")
    finally:
        c.check(server.terminate() == 0, "the server did not stop cleanly")
    output = server.output_tail(100_000)
    c.check(len(canaries) >= 3, f"too few canaries from the messages: {canaries}")
    for canary in canaries:
        c.check(canary not in output, "a name or account number from a pacs.008 reached the server's output")


if __name__ == "__main__":
    c.run_main("iso20022_sample", __doc__.splitlines()[0], body, time_limit=170)
