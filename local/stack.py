"""`clinicbot local`: the whole stack on one machine with nothing but uv.

Postgres and Redis come from DATABASE_URL / REDIS_URL when set, otherwise from embedded servers whose data
lives under the data folder (default `./.local`), so a second start keeps it. Then: migrations, the first
ADMIN, the Cloud Tasks emulator (so tasks take the production code path), every function behind one port,
and the WAHA emulator on 127.0.0.1:3000 (unless WAHA_URL points at a real WAHA) with its webhook signed and
aimed at the intake; the mail catcher (SMTP with STARTTLS on 127.0.0.1:1025, what arrived listed at
http://127.0.0.1:8025/_emulator/mail, free ports when those are taken) unless SMTP_HOST names a real server.
The assistant runs on the offline provider (or Gemini with GOOGLE_API_KEY, or Gemini against the Gemini emulator
with --gemini-emulator); local/sample_kb.yaml is imported as the knowledge base when none exists yet. Secrets the
developer did not set (JWT, task secret, WAHA key, webhook HMAC key, the catcher's password) are generated once
and kept in the data folder; the catcher's certificate is made anew at each start. Ctrl-C (SIGINT) or SIGTERM
stops every child it started.
"""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from local.cloud_tasks_emulator import CloudTasksEmulator
from local.cron import LocalCron
from local.servers import EmbeddedPostgres, EmbeddedRedis, create_database, die_with_parent, stop_process
from shared.config import BootstrapSettings, apply_environment, environment_snapshot
from shared.db import dispose_engines, session_scope
from shared.migrate import PROJECT_ROOT, upgrade_database
from shared.users import service as users

LOCAL_DATABASE = "clinicbot"
LOCAL_PROJECT = "clinicbot-local"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
SAMPLE_KNOWLEDGE_BASE = Path(__file__).parent / "sample_kb.yaml"
MAIL_CATCHER_PORTS = (1025, 8025)  # SMTP and its API: Mailpit's and MailHog's, so bookmarks carry over
MAIL_CATCHER_USER = "clinicbot"
LOCAL_MAIL_FROM = "clinicbot <relatorios@clinica.example>"


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


def say(message: str) -> None:
    print(f"[clinicbot] {message}", flush=True)


def _kept_secret(given: SecretStr | None, data_dir: Path, name: str) -> str:
    """The developer's value, else one generated on the first start and kept in the data folder."""
    if given is not None:
        return given.get_secret_value()
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _listen(preferred: int) -> socket.socket:
    """A socket listening on 127.0.0.1:`preferred`, or on a free port when that one is taken (another stack, an
    e2e run beside yours). Handed to the child as it is, so nobody can take the port before the child starts."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT owns nothing
    try:
        listening.bind(("127.0.0.1", preferred))
    except OSError:
        listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    return listening


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
    def __init__(self, port: int, host: str, data_dir: Path, waha_port: int = 3000, queue: str = "cloudtasks",
                 gemini_emulator_port: int | None = None) -> None:  # fmt: skip
        self.port, self.host, self.data_dir = port, host, data_dir.resolve()
        self.waha_port, self.queue = waha_port, queue
        self.gemini_emulator_port = gemini_emulator_port
        self.gemini: subprocess.Popen | None = None
        self.servers: list[EmbeddedPostgres | EmbeddedRedis] = []
        self.gateway: subprocess.Popen | None = None
        self.waha: subprocess.Popen | None = None
        self.mail: subprocess.Popen | None = None
        self.cloud_tasks: CloudTasksEmulator | None = None
        self.cron: LocalCron | None = None
        self.where: list[tuple[str, str]] = []
        self.environment: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

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

    @property
    def environment_file(self) -> Path:
        return self.data_dir / "stack.env"

    def _write_environment(self) -> None:
        """What the functions were given, so `clinicbot --env-file` commands reach the same stack."""
        self.environment_file.write_text("".join(f"{name}={value}\n" for name, value in self.environment.items()))
        self.environment_file.chmod(0o600)

    def _task_queue(self, bootstrap: BootstrapSettings) -> dict[str, str]:
        secret = _kept_secret(bootstrap.task_auth_secret, self.data_dir, "task-secret")
        settings = {"TASK_TARGET_BASE_URL": self.base_url, "TASK_AUTH_SECRET": secret}
        if self.queue == "inprocess":
            self.where.append(("tasks", "in-process queue (inside each function)"))
            return settings | {"TASK_QUEUE_BACKEND": "inprocess"}
        self.cloud_tasks = CloudTasksEmulator(log_file=self.data_dir / "cloud-tasks-emulator.log")
        say("starting the Cloud Tasks emulator (downloaded by uv on first use)")
        host = self.cloud_tasks.start()
        self.where.append(("tasks", f"Cloud Tasks emulator, {host}, log in {self.cloud_tasks.log_file}"))
        return settings | {"TASK_QUEUE_BACKEND": "cloudtasks", "CLOUD_TASKS_EMULATOR_HOST": host,
                           "TASK_QUEUE_PROJECT": LOCAL_PROJECT}  # fmt: skip

    def _waha(self, bootstrap: BootstrapSettings) -> dict[str, str]:
        webhook_url = f"{self.base_url}/api/v1/webhooks/waha"
        hmac_key = _kept_secret(bootstrap.waha_webhook_hmac_key, self.data_dir, "waha-webhook-hmac-key")
        settings = {"WAHA_WEBHOOK_URL": webhook_url, "WAHA_WEBHOOK_HMAC_KEY": hmac_key}
        if bootstrap.waha_url:
            self.where.append(("waha", f"WAHA_URL (yours): {bootstrap.waha_url}"))
            return settings
        api_key = _kept_secret(bootstrap.waha_api_key, self.data_dir, "waha-api-key")
        url = f"http://127.0.0.1:{self.waha_port}"
        self.waha = subprocess.Popen(
            [sys.executable, "-m", "local.waha_emulator", "--port", str(self.waha_port), f"--api-key={api_key}",
             "--webhook-url", webhook_url, f"--hmac-key={hmac_key}", "--log-level", "WARNING"],
            cwd=PROJECT_ROOT, env=environment_snapshot(), start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        self.where.append(("waha", f"emulator, {url}  (chat as a patient: {url}/)"))
        return settings | {"WAHA_URL": url, "WAHA_API_KEY": api_key}

    def _assistant(self, bootstrap: BootstrapSettings) -> dict[str, str]:
        """Offline by default; Gemini with your GOOGLE_API_KEY; or Gemini against the emulator (--gemini-emulator)."""
        if self.gemini_emulator_port is None:
            provider = "Gemini (GOOGLE_API_KEY)" if bootstrap.google_api_key else "offline provider"
            self.where.append(("assistant", provider))
            return {}
        api_key = _kept_secret(None, self.data_dir, "gemini-emulator-key")
        url = f"http://127.0.0.1:{self.gemini_emulator_port}"
        self.gemini = subprocess.Popen(
            [sys.executable, "-m", "local.gemini_emulator", "--port", str(self.gemini_emulator_port),
             f"--api-key={api_key}", "--log-level", "WARNING"],
            cwd=PROJECT_ROOT, env=environment_snapshot(), start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        self.where.append(("assistant", f"Gemini against the Gemini emulator, {url}  (script: {url}/_emulator/script)"))
        return {"GOOGLE_API_KEY": api_key, "GEMINI_BASE_URL": url, "ASSISTANT_PROVIDER": "gemini"}

    def _mail(self, bootstrap: BootstrapSettings) -> dict[str, str]:
        """The mail catcher, with a certificate made now that SMTP_CA_FILE trusts; none when SMTP_HOST is yours."""
        if bootstrap.smtp_host:
            self.where.append(("mail", f"SMTP_HOST (yours): {bootstrap.smtp_host}"))
            return {}
        from local.mail_catcher.certificate import write_self_signed_certificate

        password = _kept_secret(None, self.data_dir, "mail-catcher-password")
        files = write_self_signed_certificate(self.data_dir / "mail-catcher-cert.pem",
                                              self.data_dir / "mail-catcher-key.pem")  # fmt: skip
        smtp, http = (_listen(port) for port in MAIL_CATCHER_PORTS)
        with smtp, http:  # the child has its own copies
            self.mail = subprocess.Popen(
                [sys.executable, "-m", "local.mail_catcher", f"--smtp-fd={smtp.fileno()}",
                 f"--http-fd={http.fileno()}", "--username", MAIL_CATCHER_USER, f"--password={password}",
                 "--cert-file", str(files.certificate), "--key-file", str(files.key), "--log-level", "WARNING"],
                cwd=PROJECT_ROOT, env=environment_snapshot(), start_new_session=True, preexec_fn=die_with_parent,
                pass_fds=(smtp.fileno(), http.fileno()),
            )  # fmt: skip
            smtp_port, http_port = smtp.getsockname()[1], http.getsockname()[1]
        url = f"http://127.0.0.1:{http_port}"
        self.where.append(("mail", f"catcher, SMTP 127.0.0.1:{smtp_port}, STARTTLS  (mail: {url}/_emulator/mail)"))
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_USERNAME": MAIL_CATCHER_USER,
                "SMTP_PASSWORD": password, "SMTP_STARTTLS": "true", "SMTP_CA_FILE": str(files.certificate),
                "SMTP_FROM": bootstrap.smtp_from or LOCAL_MAIL_FROM, "MAIL_CATCHER_URL": url}  # fmt: skip

    def _knowledge(self) -> None:
        """Load local/sample_kb.yaml when no knowledge base was imported yet (yours is kept)."""
        from shared.knowledge.loading import ensure_knowledge_base

        info = ensure_knowledge_base(SAMPLE_KNOWLEDGE_BASE)
        replace = "`clinicbot kb import FILE` replaces it"
        self.where.append(("knowledge", f"{info.clinic_name} (version {info.version}); {replace}"))

    def _start_gateway(self) -> None:
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "local.gateway", "--host", self.host, "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=environment_snapshot(), start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        base = self.base_url
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

    def _start_cron(self) -> None:
        """Cloud Scheduler's part: the scheduler tick at the start of every minute, from a thread of this process."""
        from shared.config import get_settings
        from shared.queue import target_url
        from shared.routing import SCHEDULER_TICK

        url = target_url(get_settings(), SCHEDULER_TICK)
        self.cron = LocalCron(url, self.environment.get("TASK_AUTH_SECRET")).start()
        self.where.append(("scheduler", f"tick every minute, {url}  (run the due jobs now: clinicbot tick)"))

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        bootstrap = BootstrapSettings()
        database_url, redis_url = self._database(bootstrap), self._redis(bootstrap)
        self.environment = {"ENVIRONMENT": "local", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                            "JWT_SECRET_KEY": _kept_secret(bootstrap.jwt_secret_key, self.data_dir, "jwt-secret"),
                            "MEDIA_DIR": str(self.data_dir / "media"),
                            "CHROMA_PERSIST_DIR": str(self.data_dir / "chroma"),
                            "PUBLIC_BASE_URL": bootstrap.public_base_url or self.base_url}  # fmt: skip
        apply_environment(self.environment)
        say("applying migrations")
        upgrade_database()
        say(_ensure_first_admin(bootstrap))
        self._knowledge()
        dispose_engines()  # the gateway opens its own connections
        self.environment |= self._task_queue(bootstrap) | self._waha(bootstrap) | self._assistant(bootstrap)
        self.environment |= self._mail(bootstrap)
        apply_environment(self.environment)
        self._write_environment()
        self._start_gateway()
        self._start_cron()
        for name, where in self.where:
            say(f"{name:9} {where}")
        say(f"ops       uv run clinicbot --env-file {self.environment_file} sweep   (or any other command)")
        say("ready; Ctrl-C stops everything")

    def watch(self) -> None:
        """Block until a signal arrives or a child dies."""
        while True:
            children = {
                "gateway": self.gateway,
                "WAHA emulator": self.waha,
                "Gemini emulator": self.gemini,
                "mail catcher": self.mail,
            } | {type(server).__name__: server.process for server in self.servers}
            if self.cloud_tasks:
                children["Cloud Tasks emulator"] = self.cloud_tasks.process
            for name, child in children.items():
                if child is not None and child.poll() is not None:
                    raise RuntimeError(f"{name} exited unexpectedly (exit code {child.returncode}); stopping the stack")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.cron is not None:
            self.cron.stop()
        for emulator in (self.waha, self.gemini, self.mail):
            if emulator is not None:
                stop_process(emulator, signal.SIGTERM, timeout=10)
        if self.gateway is not None:
            stop_process(self.gateway, signal.SIGTERM, timeout=10)
        if self.cloud_tasks is not None:
            self.cloud_tasks.stop()
        for server in reversed(self.servers):
            server.stop()


def run_local_stack(port: int, host: str, data_dir: Path, waha_port: int = 3000, queue: str = "cloudtasks",
                    gemini_emulator_port: int | None = None) -> int:  # fmt: skip
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    stack = LocalStack(port, host, data_dir, waha_port, queue, gemini_emulator_port)
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
