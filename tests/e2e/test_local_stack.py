"""The issue's acceptance, as a new user would try it: `clinicbot local`, log in, Ctrl-C, start again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil
import pytest

from local.servers import create_database, drop_database, free_port
from shared.config import Settings
from shared.mail import SmtpMailer, compose_email
from tests.conftest import PASSWORD, scratch_dir

pytestmark = pytest.mark.e2e
CLINICBOT = str(Path(sys.executable).parent / "clinicbot")
STRIPPED = ("DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "REDIS_NAMESPACE", "ENVIRONMENT", "WAHA_URL", "SMTP_HOST")


class RunningStack:
    def __init__(self, data_dir: Path, environment: dict[str, str], *extra_args: str) -> None:
        self.port, self.waha_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.waha = f"http://127.0.0.1:{self.waha_port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [CLINICBOT, "local", "--port", str(self.port), "--data-dir", str(data_dir),
             "--waha-port", str(self.waha_port), *extra_args],
            cwd=data_dir.parent, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_healthy(self, within: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < within:
            assert self.process.poll() is None, "".join(self.lines)
            try:
                healthy = httpx.get(f"{self.base}/health", timeout=3).status_code == 200
                if healthy and "ready; Ctrl-C stops everything" in self.output():
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"not healthy within {within} s:\n" + "".join(self.lines))

    def output(self) -> str:
        return "".join(self.lines)

    def interrupt(self) -> list[psutil.Process]:
        """Ctrl-C: return the descendants that were running, after the stack has exited."""
        assert self.process.poll() is None, "the stack exited by itself:\n" + self.output()
        descendants = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(30) == 0, self.output()
        return descendants


def _clean_environment(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in STRIPPED} | extra


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with ExitStack() as cleanup:
        yield scratch_dir(cleanup, prefix="clinicbot-e2e-") / "data"


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    survivors = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                survivors.append(process)
        except psutil.NoSuchProcess:
            pass
    return survivors


def _login(base: str, email: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/auth/login", json={"email": email, "password": password}, timeout=10)


def _walk_acceptance(stack: RunningStack, admin_email: str, admin_password: str) -> str:
    admin = _login(stack.base, admin_email, admin_password)
    assert admin.status_code == 200, admin.text
    headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    me = httpx.get(f"{stack.base}/auth/me", headers=headers, timeout=10)
    assert me.status_code == 200 and me.json()["role"] == "ADMIN"
    secretary = f"sec-{uuid.uuid4().hex[:6]}@example.com"
    created = httpx.post(f"{stack.base}/users", headers=headers, timeout=10,
                         json={"email": secretary, "full_name": "Secretária", "password": PASSWORD})  # fmt: skip
    assert created.status_code == 201, created.text
    user_token = _login(stack.base, secretary, PASSWORD).json()["access_token"]
    forbidden = httpx.get(f"{stack.base}/users", headers={"Authorization": f"Bearer {user_token}"}, timeout=10)
    assert forbidden.status_code == 403
    wrong = _login(stack.base, admin_email, "not-the-password")
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    return secretary


def _mail_reaches_the_catcher(data_dir: Path) -> None:
    """The stack's own SMTP settings (stack.env) deliver to its mail catcher, listed by MAIL_CATCHER_URL."""
    written = dict(line.split("=", 1) for line in (data_dir / "stack.env").read_text().splitlines())
    settings = Settings(_env_file=None, **{name.lower(): value for name, value in written.items()})
    mailer = SmtpMailer.from_settings(settings)
    sent = mailer.send(compose_email(mailer.sender, ["dona@clinica.example"], "Teste de e-mail", "Olá!"))
    items = httpx.get(f"{written['MAIL_CATCHER_URL']}/_emulator/mail", timeout=10).json()["items"]
    assert [(item["to"], item["subject"]) for item in items] == [(sent.accepted, "Teste de e-mail")]


def _restart_keeps_users(data_dir: Path, environment: dict[str, str], secretary: str) -> None:
    stack = RunningStack(data_dir, environment)
    try:
        stack.wait_healthy()
        assert _login(stack.base, secretary, PASSWORD).status_code == 200
    finally:
        leftovers = _alive(stack.interrupt())
    assert leftovers == [], leftovers


def test_embedded_servers_from_nothing(data_dir):
    environment = _clean_environment()
    stack = RunningStack(data_dir, environment)
    try:
        seconds = stack.wait_healthy(within=60)
        generated = re.search(r"created the first ADMIN: (\S+) / (\S+)", stack.output())
        assert generated, stack.output()
        secretary = _walk_acceptance(stack, generated.group(1), generated.group(2))
        _mail_reaches_the_catcher(data_dir)
    finally:
        leftovers = _alive(stack.interrupt())
    assert leftovers == [], leftovers
    assert seconds < 60
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    _restart_keeps_users(data_dir, environment, secretary)


def test_with_the_machines_database_and_redis(backends, data_dir):
    name = f"clinicbot_e2e_{uuid.uuid4().hex[:10]}"
    database_url = create_database(backends.server_url, name)
    namespace = f"{backends.redis_namespace}:e2e"  # inside the run's namespace, which the suite deletes
    environment = _clean_environment(
        DATABASE_URL=database_url,
        REDIS_URL=backends.redis_url,
        REDIS_NAMESPACE=namespace,
        CLINICBOT_ADMIN_EMAIL="dona@example.com",
        CLINICBOT_ADMIN_PASSWORD="senha-da-dona-1",
    )
    try:
        stack = RunningStack(data_dir, environment)
        try:
            stack.wait_healthy(within=60)
            assert "DATABASE_URL (yours)" in stack.output() and "REDIS_URL (yours)" in stack.output()
            secretary = _walk_acceptance(stack, "dona@example.com", "senha-da-dona-1")
        finally:
            leftovers = _alive(stack.interrupt())
        assert leftovers == []
        assert not (data_dir / "postgres").exists()
        _restart_keeps_users(data_dir, environment, secretary)
    finally:
        drop_database(backends.server_url, name)
