#!/usr/bin/env python3
"""Black-box test of scripts/sftp-server, the SFTP intake (real OpenSSH sshd and sftp, as root).

- A tenant uploads a file with `sftp -b` and its key; the file lands in DATA_DIR/inbox/TENANT, byte for byte.
- Another tenant's key cannot log in as the first tenant's user.
- Password login is refused: the server offers publickey only, and a password attempt fails.
- The tenant cannot write outside its directory: not into the chroot's root, not into another tenant's directory,
  not through `..`; and cannot list the other tenants.
- A DATA_DIR under /tmp is refused (sshd's chroot must be root-owned on every path component).
- `stop` kills sshd by its PID (the port closes) and removes the users it created.

    python3 Tests/blackbox/intake_adapters.py --vigil .build/debug/vigil [--prefix /srv/vigil-sftp-test-]
"""
import os
import secrets
import shutil
import socket
import subprocess
import tempfile

import common as c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "sftp-server")
TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keypair(directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], check=True, timeout=TIMEOUT)
    return path


def sftp(port: int, key: str, user: str, batch: str, work: str, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    batch_file = os.path.join(work, f"batch-{secrets.token_hex(4)}")
    with open(batch_file, "w") as f:
        f.write(batch)
    command = ["sftp", "-b", batch_file, "-P", str(port), "-i", key, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
               *(extra or []), f"{user}@127.0.0.1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)


def server(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=TIMEOUT)


def main(args) -> None:
    c.check(os.geteuid() == 0, "this test runs as root (it creates system users and an sshd chroot)")
    for tool in ("ssh-keygen", "sftp", "ssh"):
        c.check(shutil.which(tool) is not None, f"{tool} is missing: scripts/install --packages-only")
    work = c.make_temp_dir("vigil-sftp-keys-")
    os.chmod(work, 0o700)
    suffix = secrets.token_hex(3)
    first, second = f"ta{suffix}", f"tb{suffix}"
    first_key, second_key = keypair(work, "first"), keypair(work, "second")

    # sshd refuses a chroot under /tmp (a world-writable component): the script says so before starting anything.
    under_tmp = tempfile.mkdtemp(prefix="vigil-sftp-tmp-")
    try:
        refused = server("start", under_tmp, str(free_port()), f"{first}:{first_key}.pub")
        c.check(refused.returncode != 0 and "root-owned" in refused.stderr,
                f"a DATA_DIR under /tmp should be refused naming the chroot rule: {refused.returncode} {refused.stderr!r}")
    finally:
        server("stop", under_tmp)
        shutil.rmtree(under_tmp, ignore_errors=True)
    c.log("a DATA_DIR under /tmp is refused (the chroot must be root-owned on every component)")

    parent = os.path.dirname(args.prefix) or "/"
    os.makedirs(parent, exist_ok=True)
    data = tempfile.mkdtemp(prefix=os.path.basename(args.prefix), dir=parent)
    os.chmod(data, 0o755)
    port = free_port()
    try:
        started = server("start", data, str(port), f"{first}:{first_key}.pub", f"{second}:{second_key}.pub")
        c.check(started.returncode == 0, f"scripts/sftp-server start failed: {started.stdout}{started.stderr}")
        pid = int(open(os.path.join(data, "sftp", "sshd.pid")).read())
        c.check(open(f"/proc/{pid}/comm").read().strip() == "sshd", "sshd.pid does not name the running sshd")
        user, other_user = f"vigil-sftp-{first}", f"vigil-sftp-{second}"

        payload = os.path.join(work, "fraud-reports.2026-12-04.csv.gpg")
        content = secrets.token_bytes(70_000)
        with open(payload, "wb") as f:
            f.write(content)
        up = sftp(port, first_key, user, f"put {payload} fraud-reports.2026-12-04.csv.gpg\n", work)
        c.check(up.returncode == 0, f"the upload failed: {up.stdout}{up.stderr}")
        landed = os.path.join(data, "inbox", first, "fraud-reports.2026-12-04.csv.gpg")
        c.check(os.path.isfile(landed), f"the upload did not land in {landed}")
        with open(landed, "rb") as f:
            c.check(f.read() == content, "the uploaded file differs from what was sent")
        c.check(os.stat(landed).st_mode & 0o077 == 0, "the uploaded file is readable by group or others")
        c.log("a tenant's upload with sftp -b lands in DATA_DIR/inbox/TENANT byte for byte (mode 0600)")

        wrong = sftp(port, second_key, user, "ls\n", work)
        c.check(wrong.returncode != 0 and "Permission denied" in wrong.stderr,
                f"another tenant's key logged in as {user}: {wrong.returncode} {wrong.stderr!r}")
        c.log("another tenant's key cannot log in as the first tenant")

        # The methods the server offers after `none`: publickey only. Then an actual password attempt fails.
        probe = subprocess.run(["ssh", "-v", "-p", str(port), "-o", "BatchMode=yes", "-o", "PreferredAuthentications=none",
                                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                f"{user}@127.0.0.1", "true"], capture_output=True, text=True, timeout=TIMEOUT)
        offered = [line for line in probe.stderr.splitlines() if "Authentications that can continue" in line]
        c.check(probe.returncode != 0 and offered and all(line.rstrip().endswith(": publickey") for line in offered),
                f"the server should offer publickey only: {offered!r}")
        password = sftp(port, first_key, user, "ls\n", work,
                        ["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no"])
        c.check(password.returncode != 0 and "Permission denied" in password.stderr,
                f"a password login was not refused: {password.returncode} {password.stderr!r}")
        c.log("password and keyboard-interactive logins are refused; the server offers publickey only")

        escapes = {
            "the chroot's root": ("/escape.csv", os.path.join(data, "inbox", "escape.csv")),
            "another tenant's directory": (f"/{second}/escape.csv", os.path.join(data, "inbox", second, "escape.csv")),
            "a path through ..": ("../../../escape.csv", os.path.join(data, "inbox", "escape.csv")),
            "the data directory above the chroot": ("../../escape.csv", os.path.join(data, "escape.csv")),
        }
        for what, (remote, local) in escapes.items():
            attempt = sftp(port, first_key, user, f"put {payload} {remote}\n", work)
            c.check(attempt.returncode != 0, f"the tenant wrote into {what}: {attempt.stdout}")
            c.check(not os.path.exists(local), f"a file appeared in {what}: {local}")
        listing = sftp(port, first_key, user, "ls /\n", work)
        c.check(listing.returncode != 0 or second not in listing.stdout,
                f"the tenant can list the other tenants: {listing.stdout!r}")
        mkdir = sftp(port, first_key, user, "mkdir /newtenant\n", work)
        c.check(mkdir.returncode != 0 and not os.path.exists(os.path.join(data, "inbox", "newtenant")),
                "the tenant created a directory in the chroot's root")
        c.log("the tenant cannot write outside its directory (root, another tenant, ..) nor list the others")
    finally:
        stopped = server("stop", data)
    c.check(stopped.returncode == 0, f"scripts/sftp-server stop failed: {stopped.stderr}")
    c.check(not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/comm").read().strip() != "sshd",
            "sshd is still running after stop")
    with socket.socket() as s:
        s.settimeout(2)
        c.check(s.connect_ex(("127.0.0.1", port)) != 0, "the SFTP port still accepts connections after stop")
    for name in (user, other_user):
        c.check(subprocess.run(["id", name], capture_output=True).returncode != 0, f"stop left the user {name}")
    shutil.rmtree(data, ignore_errors=True)
    c.log("stop kills sshd by PID (the port closes) and removes the tenants' users")


def options(parser) -> None:
    parser.add_argument("--prefix", default="/srv/vigil-sftp-test-",
                        help="where the test's DATA_DIR is made (a root-owned path, not under /tmp)")


if __name__ == "__main__":
    c.run_main("intake_adapters", __doc__, main, time_limit=120, options=options)
