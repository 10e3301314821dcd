"""`clinicbot local`: the whole stack on one machine with nothing but uv.

Postgres and Redis come from DATABASE_URL / REDIS_URL when set, otherwise from embedded servers whose data
lives under the data folder (default `./.local`), so a second start keeps it. Then: migrations, the first
ADMIN, and every function behind one port. Ctrl-C (SIGINT) or SIGTERM stops every child it started.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from local.servers import EmbeddedPostgres, EmbeddedRedis, create_database, die_with_parent, stop_process
from shared.config import BootstrapSettings, apply_environment, environment_snapshot
from shared.db import dispose_engines, session_scope
from shared.migrate import PROJECT_ROOT, upgrade_database
from shared.users import service as users

LOCAL_DATABASE = "clinicbot"
DEFAULT_ADMIN_EMAIL = "admin@example.com"


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


def say(message: str) -> None:
    print(f"[clinicbot] {message}", flush=True)


def _jwt_secret(bootstrap: BootstrapSettings, data_dir: Path) -> str:
    if bootstrap.jwt_secret_key is not None:
        return bootstrap.jwt_secret_key.get_secret_value()
    path = data_dir / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _ensure_first_admin(bootstrap: BootstrapSettings) -> str:
    with session_scope() as session:
        if bootstrap.clinicbot_admin_email and bootstrap.clinicbot_admin_password:
            user, created = users.ensure_admin(session, bootstrap.clinicbot_admin_email, "Administrador",
                                               bootstrap.clinicbot_admin_password.get_secret_value())  # fmt: skip
            return f"ADMIN {user.email} ({'created' if created else 'exists'}; password from CLINICBOT_ADMIN_PASSWORD)"
        if users.any_admin_exists(session):
            return "ADMIN already exists (kept)"
        password = secrets.token_urlsafe(12)
        users.ensure_admin(session, DEFAULT_ADMIN_EMAIL, "Administrador", password)
        return f"created the first ADMIN: {DEFAULT_ADMIN_EMAIL} / {password}  (shown once; write it down)"


class LocalStack:
    def __init__(self, port: int, host: str, data_dir: Path) -> None:
        self.port, self.host, self.data_dir = port, host, data_dir.resolve()
        self.servers: list[EmbeddedPostgres | EmbeddedRedis] = []
        self.gateway: subprocess.Popen | None = None
        self.where: list[tuple[str, str]] = []

    def _database(self, bootstrap: BootstrapSettings) -> str:
        if bootstrap.database_url:
            self.where.append(("postgres", "DATABASE_URL (yours)"))
            return bootstrap.database_url
        server = EmbeddedPostgres(self.data_dir / "postgres")
        self.servers.append(server)
        url = create_database(server.start(), LOCAL_DATABASE, exist_ok=True)
        self.where.append(("postgres", f"embedded, 127.0.0.1:{server.port}, data in {server.data_dir}"))
        return url

    def _redis(self, bootstrap: BootstrapSettings) -> str:
        if bootstrap.redis_url:
            self.where.append(("redis", "REDIS_URL (yours)"))
            return bootstrap.redis_url
        server = EmbeddedRedis(self.data_dir / "redis")
        self.servers.append(server)
        url = server.start()
        self.where.append(("redis", f"embedded, {url}"))
        return url

    def _start_gateway(self) -> None:
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "local.gateway", "--host", self.host, "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=environment_snapshot(), start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        base = f"http://{self.host}:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.gateway.poll() is not None:
                raise RuntimeError("the functions failed to start; see the errors above")
            try:
                httpx.get(f"{base}/api/v1/health", timeout=3)
                self.where.append(("api", f"{base}/api/v1  (docs: {base}/api/v1/docs)"))
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the functions did not answer within 30 s")

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        bootstrap = BootstrapSettings()
        database_url, redis_url = self._database(bootstrap), self._redis(bootstrap)
        apply_environment({"ENVIRONMENT": "local", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                           "JWT_SECRET_KEY": _jwt_secret(bootstrap, self.data_dir)})  # fmt: skip
        say("applying migrations")
        upgrade_database()
        say(_ensure_first_admin(bootstrap))
        dispose_engines()  # the gateway opens its own connections
        self._start_gateway()
        for name, where in self.where:
            say(f"{name:9} {where}")
        say("ready; Ctrl-C stops everything")

    def watch(self) -> None:
        """Block until a signal arrives or a child dies."""
        while True:
            children = [self.gateway] + [server.process for server in self.servers]
            if any(child is not None and child.poll() is not None for child in children):
                raise RuntimeError("a child process exited unexpectedly; stopping the stack")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.gateway is not None:
            stop_process(self.gateway, signal.SIGTERM, timeout=10)
        for server in reversed(self.servers):
            server.stop()


def run_local_stack(port: int, host: str, data_dir: Path) -> int:
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    stack = LocalStack(port, host, data_dir)
    try:
        stack.start()
        stack.watch()
    except StopRequested as stop:
        say(f"{stop} received; stopping")
        return 0
    except Exception as exc:
        say(f"error: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        say("stopped")
