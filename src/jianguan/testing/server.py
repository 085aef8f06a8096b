"""The real server in a child process, and raw HTTP uploads against it, for measuring what a request costs
the server's memory (the body-cap test and `./run bench upload`). Linux only: memory is read from /proc."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# What a test run puts into the environment that the child's own settings must not see.
TEST_ONLY = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS", "JIANGUAN_DEMO"}


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def memory_kb(self) -> tuple[int, int]:
        """(resident now, peak resident since the last reset_peak) in kB, from /proc/PID/status."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields["VmRSS"], fields["VmHWM"]

    def reset_peak(self) -> None:
        """Sets the peak (VmHWM) to the current resident size (Linux ≥ 4.0)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


SETUP = """
import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from jianguan.accounts.models import ApiToken, User
from jianguan.core import codes
from jianguan.core.models import Jurisdiction
from jianguan.projects.models import Project
from jianguan.registry.models import Enterprise

city, _ = Jurisdiction.objects.get_or_create(
    code="371300", defaults={"name": "临沂市", "kind": "city", "center_lat": 35.05, "center_lon": 118.35}
)
district, _ = Jurisdiction.objects.get_or_create(
    code="371302",
    defaults={"name": "兰山区", "kind": "district", "parent": city, "center_lat": 35.06, "center_lon": 118.34},
)
developer = Enterprise.objects.create(
    name="上传测试置业有限公司", uscc=codes.make_uscc("91371302000000001"), kind="developer", jurisdiction=district
)
user = User.objects.create_user("uploader", role="enterprise_user", enterprise=developer)
_, key = ApiToken.issue(user, "upload-memory")
project = Project.objects.create(
    name="上传测试项目", code="371302-2026-9001", project_type="housing", jurisdiction=district,
    address="临沂市兰山区", lat=35.06, lon=118.34, applicant=developer,
)
print(key, project.pk)
"""


def child_env(var_dir: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    base.update(
        DJANGO_SETTINGS_MODULE="jianguan.settings",
        DEBUG="1",
        SECRET_KEY="server-test-only-" + "x" * 40,
        JIANGUAN_VAR_DIR=str(var_dir),
        LEDGER_GENERATE_KEY="1",
        **env,
    )
    # The child's own SQLite file (a PostgreSQL test run's DATABASE_URL names the test runner's database).
    base["DATABASE_URL"] = f"sqlite:///{var_dir / 'server.sqlite3'}"
    return base


def prepare_upload_target(var_dir: Path, **env: str) -> tuple[str, int]:
    """Migrates the child's database and creates a developer's account and its draft project: (token, id)."""
    result = subprocess.run(
        [sys.executable, "-c", SETUP], env=child_env(var_dir, **env), capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    key, project_id = result.stdout.split()[-2:]
    return key, int(project_id)


@contextlib.contextmanager
def uvicorn_server(var_dir: Path, **env: str) -> Iterator[Server]:
    """`uvicorn jianguan.asgi:application` (the production entry point) on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "jianguan.asgi:application", "--fd", str(sock.fileno())]
    command += ["--log-level", "warning", "--lifespan", "off"]
    process = subprocess.Popen(command, env=child_env(var_dir, **env), pass_fds=[sock.fileno()])
    sock.close()
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 60
        while request(server, "GET", "/api/me")[0] is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_status(conn: socket.socket, timeout: float) -> int | None:
    conn.settimeout(timeout)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None


def request(
    server: Server,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body_size: int = 0,
    chunked: bool = False,
    expect_continue: bool = False,
    prefix: bytes = b"",
    suffix: bytes = b"",
) -> tuple[int | None, int]:
    """Sends a request whose body is `prefix`, `body_size` bytes of filler (streamed in 1 MiB pieces, never
    built whole) and `suffix`; returns (the answer's status or None when there was none, bytes of body sent
    before the server answered or closed)."""
    try:
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    except OSError:
        return None, 0
    with conn:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        total = len(prefix) + body_size + len(suffix)
        if total or chunked:
            head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
        if expect_continue:
            head.append("Expect: 100-continue")
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if expect_continue:
            status = _read_status(conn, 10)
            if status != 100:
                return status, 0
        piece = bytes(range(256)) * 4096  # 1 MiB
        sent = 0

        def send(data: bytes) -> None:
            nonlocal sent
            if data:
                conn.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                sent += len(data)

        try:
            send(prefix)
            filler = 0
            while filler < body_size:
                size = min(len(piece), body_size - filler)
                send(piece[:size])
                filler += size
                if select.select([conn], [], [], 0)[0]:  # the server answered: stop sending
                    break
            else:
                send(suffix)
                if chunked:
                    conn.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection while the body was still coming
            pass
        return _read_status(conn, 30), sent


def multipart_upload(file_name: str, head: bytes, fields: dict[str, str]) -> tuple[str, bytes, bytes]:
    """(content type, prefix, suffix) of a multipart/form-data body with one file whose content is `head`
    followed by the filler `request` streams."""
    boundary = "jianguan-upload-boundary"
    prefix = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    prefix += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + head
    suffix = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", prefix, suffix
