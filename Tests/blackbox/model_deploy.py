#!/usr/bin/env python3
"""Black-box test of the model lifecycle: deploy under load, a refused model, shadow scoring, a tenant's champion.

    python3 Tests/blackbox/model_deploy.py --vigil .build/debug/vigil

Starts `vigil serve` (the bundled model answers) and keeps four connections scoring payments while
`vigil model deploy A.json` swaps the champion: no request fails, every answer names the bundled model or A, and
every request sent after the first answer from A is answered by A. A model naming a feature Vigil does not compute is
refused (exit status 1, nothing changed) and A keeps answering. `deploy --shadow B.json` adds a challenger: the
responses stay A's, and `vigil events export` holds one `shadow` record per payment scored since, with B's version and
the scored event's scoreId. `deploy --tenant` gives one tenant its own champion; `vigil model list` shows the roles;
`retire --shadow` stops the shadow records; the audit log holds model.deploy, model.retire and the server's
model.reload.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common as c  # noqa: E402

SCORE = "/v1/payments/score"
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "VigilEngine", "Resources", "model.json")


def payment(pid: str, i: int) -> dict:
    return {
        "paymentId": pid, "perspective": "sending", "type": "push", "scheme": "FPS", "channel": "mobile",
        "amount": f"{100 + i % 900}.{i % 100:02d}", "currency": "GBP", "createdAt": c.rfc3339_now(),
        "debtor": {"name": "Model Sender", "account": {"sortCode": "404142", "accountNumber": f"{10000000 + i % 7}"}},
        "creditor": {"account": {"iban": "GB82WEST12345698765432"}},
    }


def model_file(directory: str, name: str, edit) -> str:
    with open(BUNDLED, encoding="utf-8") as fh:
        model = json.load(fh)
    edit(model)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(model, fh, sort_keys=True)
    return path


def tagged(tag: str, keep_calibration: bool = True):
    def edit(model: dict) -> None:
        attributes = model["learner"].setdefault("attributes", {})
        if not keep_calibration:
            attributes.pop("vigil_calibration", None)
        attributes["vigil_test_tag"] = tag
    return edit


def unknown_feature(model: dict) -> None:
    model["learner"]["feature_names"][0] = "no_such_feature"


def deploy(vigil: str, data: str, path: str, *extra: str) -> str:
    cp = c.run_cli(vigil, ["model", "deploy", path, "--data-dir", data, *extra])
    words = cp.stdout.decode().split()
    c.check(len(words) >= 2 and words[0] == "deployed" and words[1].startswith("xgb-"), f"model deploy printed {cp.stdout!r}")
    return words[1]


def score_once(server: c.Server, key: str, i: int, prefix: str) -> dict:
    resp = c.request(server.port, "POST", SCORE, body=payment(c.new_payment_id(prefix), i), headers=c.score_headers(key))
    c.check(resp.status == 200, f"{prefix} {i}: {resp.status} {resp.body[:300]!r}")
    return resp.json()


def wait_for_version(server: c.Server, key: str, version: str, prefix: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # A tenant created a moment ago is 401 until the server's next poll of the tenants.
        resp = c.request(server.port, "POST", SCORE, body=payment(c.new_payment_id(prefix), 1), headers=c.score_headers(key))
        c.check(resp.status in (200, 401), f"{prefix}: {resp.status} {resp.body[:300]!r}")
        if resp.status == 200 and resp.json()["modelVersion"] == version:
            return
        time.sleep(0.1)
    c.fail(f"the server did not answer with {version} within 10 s of the deploy")


def main(args) -> None:
    vigil = args.vigil
    data = c.make_temp_dir("vigil-models-")
    files = c.make_temp_dir("vigil-model-files-")
    model_a = model_file(files, "a.json", tagged("a"))
    model_b = model_file(files, "b.json", tagged("b", keep_calibration=False))
    bad = model_file(files, "bad.json", unknown_feature)

    server = c.Server(vigil, data, name="models").start()
    server.wait_ready()
    key = c.read_demo_key(data)
    bundled = score_once(server, key, 0, "warm")["modelVersion"]

    # Four connections scoring for a bounded time while the champion is swapped.
    results: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def load(worker: int) -> None:
        client = c.KeepAliveClient(server.port, key)
        i = 0
        try:
            while not stop.is_set():
                body = json.dumps(payment(c.new_payment_id(f"load{worker}"), i)).encode()
                started = time.monotonic()
                try:
                    status, raw = client.post_json(SCORE, body)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"worker {worker}: {exc!r}")
                    return
                ended = time.monotonic()
                version = json.loads(raw).get("modelVersion", "") if status == 200 else ""
                with lock:
                    results.append((started, ended, status, version))
                i += 1
        finally:
            client.close()

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    version_a = deploy(vigil, data, model_a)
    deployed_at = time.monotonic()
    while time.monotonic() - deployed_at < 3.0 and not errors:
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    c.check(not errors, f"requests failed during the deploy: {errors[:3]}")
    c.check(all(not t.is_alive() for t in threads), "a load thread did not stop")
    failed = [r for r in results if r[2] != 200]
    c.check(not failed, f"{len(failed)} of {len(results)} requests failed during the deploy: statuses {sorted({r[2] for r in failed})}")
    versions = {r[3] for r in results}
    c.check(versions <= {bundled, version_a}, f"answers named other models than {bundled} and {version_a}: {versions}")
    c.check(version_a in versions and bundled in versions, f"the load did not span the swap: {versions}")
    first_a = min(r[1] for r in results if r[3] == version_a)
    late_old = [r for r in results if r[0] > first_a and r[3] != version_a]
    c.check(not late_old, f"{len(late_old)} requests sent after the first answer from {version_a} were answered by another model")
    c.log(f"ok   {len(results)} requests during the deploy, none failed; {bundled} then {version_a}, never after")

    # A model that the server would refuse: refused before anything is stored, and A keeps answering.
    cp = c.run_cli(vigil, ["model", "deploy", bad, "--data-dir", data], check_status=False)
    c.check(cp.returncode == 1, f"deploying a bad model exited {cp.returncode}: {cp.stderr!r}")
    c.check(b"refused" in cp.stderr and b"no_such_feature" in cp.stderr, f"the refusal does not say why: {cp.stderr!r}")
    time.sleep(1.5)
    c.check(score_once(server, key, 2, "after-bad")["modelVersion"] == version_a, "the champion changed after a refused deploy")
    listed = c.run_cli(vigil, ["model", "list", "--data-dir", data]).stdout.decode().splitlines()
    c.check(listed and listed[0].split("\t")[:2] == ["champion", version_a], f"model list after the refusal: {listed}")
    c.log("ok   a model with an unknown feature is refused (exit 1, says which) and the champion stays")

    # A challenger: scored in the shadow of every payment; the answers stay the champion's.
    version_b = deploy(vigil, data, model_b, "--shadow")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        roles = c.run_cli(vigil, ["model", "list", "--data-dir", data]).stdout.decode()
        if f"challenger\t{version_b}" in roles:
            break
    time.sleep(1.5)  # the server's next poll
    shadowed = [score_once(server, key, 10 + i, "shadowed") for i in range(12)]
    c.check(all(a["modelVersion"] == version_a for a in shadowed), "a response came from the challenger")
    deadline = time.monotonic() + 10
    while True:
        metrics = c.request(server.port, "GET", "/metrics").body.decode()
        values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                  if line.startswith("vigil_shadow_scores")}
        if values.get("vigil_shadow_scores_total", 0) >= len(shadowed) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    c.check(values.get("vigil_shadow_scores_total", 0) >= len(shadowed) and values.get("vigil_shadow_scores_dropped_total") == 0,
            f"/metrics shadow counters: {values}")

    # A tenant's own champion.
    other = c.create_tenant(vigil, data, "bank-own")
    deploy(vigil, data, model_b, "--tenant", "bank-own")
    wait_for_version(server, other, version_b, "own")
    c.check(score_once(server, key, 3, "demo-after-own")["modelVersion"] == version_a, "the demo tenant lost the global champion")
    listed = c.run_cli(vigil, ["model", "list", "--data-dir", data]).stdout.decode().splitlines()
    roles = [line.split("\t")[:2] for line in listed]
    c.check(roles == [["champion", version_a], ["challenger", version_b], ["tenant:bank-own", version_b]], f"model list: {listed}")
    c.log("ok   a tenant's own champion answers for it, the global champion for the others; model list shows the roles")

    retired = c.run_cli(vigil, ["model", "retire", "--shadow", "--data-dir", data]).stdout.decode()
    c.check(version_b in retired, f"model retire printed {retired!r}")
    time.sleep(1.5)
    unshadowed = [score_once(server, key, 40 + i, "unshadowed") for i in range(5)]
    time.sleep(0.5)
    c.check(server.terminate() == 0, "the server did not exit 0 on SIGTERM")

    shadows = c.export_shadows(vigil, data)
    scored = {rec["response"]["scoreId"]: rec for rec in c.export_events(vigil, data)[0]}
    by_score = {rec["scoreId"]: rec for rec in shadows}
    for answer in shadowed:
        shadow = by_score.get(answer["scoreId"])
        c.check(shadow is not None, f"no shadow record for payment {answer['paymentId']}")
        c.check(shadow["modelVersion"] == version_b and shadow["paymentId"] == answer["paymentId"]
                and 0 <= shadow["score"] <= 999 and 0 <= shadow["probability"] <= 1, f"shadow record {shadow}")
        c.check(scored[answer["scoreId"]]["modelVersion"] == version_a, "the scored event is not the champion's")
    c.check(all(a["scoreId"] not in by_score for a in unshadowed), "shadow records after the challenger was retired")
    c.check(all(rec["modelVersion"] == version_b for rec in shadows), "a shadow record names another model")
    c.log(f"ok   {len(shadowed)} payments scored with a challenger each have a shadow record from {version_b}; none after retire")

    records = [json.loads(line) for line in c.run_cli(vigil, ["audit", "export", "--data-dir", data]).stdout.decode().splitlines()]
    actions = [r["action"] for r in records]
    c.check(actions.count("model.deploy") == 3 and actions.count("model.retire") == 1,
            f"audit: {[a for a in actions if a.startswith('model.')]}")
    c.check(actions.count("model.reload") >= 3, f"the server audited {actions.count('model.reload')} model reloads, expected 3 or more")
    deploys = [r for r in records if r["action"] == "model.deploy"]
    c.check([d["details"]["role"] for d in deploys] == ["champion", "challenger", "tenant"], f"audited deploys: {deploys}")
    c.check(deploys[0]["details"]["version"] == version_a, f"audited deploy: {deploys[0]}")
    c.log("ok   the audit log holds each deploy with version and role, the retirement and the server's reloads")
    c.log("model_deploy: all checks passed")


if __name__ == "__main__":
    c.run_main("model_deploy", __doc__, main, time_limit=150)
