"""Test backends: a throwaway database and Redis namespace, on DATABASE_URL / REDIS_URL when given,
otherwise on embedded servers started for this run. Everything is dropped at the end. Under xdist each worker is
a session of its own: its own database and namespace, its own embedded servers (own folder, own free ports)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import functions_framework
import httpx
import pytest
from sqlalchemy import text

from local.servers import EmbeddedPostgres, EmbeddedRedis, create_database, drop_database
from shared.cache import close_redis, get_redis
from shared.config import BootstrapSettings, apply_environment, get_settings
from shared.db import dispose_engines, session_scope
from shared.migrate import PROJECT_ROOT, upgrade_database
from shared.queue import get_task_queue
from shared.tables import metadata
from shared.tasks.in_process import InProcessQueue
from shared.users.models import Role, User
from shared.users.schemas import UserCreate
from shared.users.service import create_user

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Backends:
    server_url: str  # the Postgres server, on its maintenance database
    database_url: str  # this run's throwaway database
    redis_url: str
    redis_namespace: str


def scratch_dir(cleanup: ExitStack, prefix: str = "clinicbot-test-") -> Path:
    """A folder removed when `cleanup` closes. Not pytest's tmp_path: its 0700 parents would shut out the
    unprivileged user that Postgres runs as under root."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
    return folder


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The e2e tests each start a whole stack: under xdist (pyproject's addopts) they share one worker, so one
    stack starts at a time while the other workers run the rest."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("stacks"))


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    bootstrap = BootstrapSettings()
    with ExitStack() as cleanup:
        server_url, redis_url = bootstrap.database_url, bootstrap.redis_url
        if not server_url:
            postgres = EmbeddedPostgres(scratch_dir(cleanup) / "postgres", durable=False)
            server_url = postgres.start()
            cleanup.callback(postgres.stop)
        if not redis_url:
            redis_server = EmbeddedRedis(scratch_dir(cleanup) / "redis", durable=False)
            redis_url = redis_server.start()
            cleanup.callback(redis_server.stop)
        name = f"clinicbot_test_{uuid.uuid4().hex[:12]}"
        database_url = create_database(server_url, name)
        cleanup.callback(drop_database, server_url, name)
        found = Backends(server_url, database_url, redis_url, f"clinicbot-test-{uuid.uuid4().hex[:12]}")
        apply_environment({
            "ENVIRONMENT": "local",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_NAMESPACE": found.redis_namespace,
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "WAHA_URL": "http://127.0.0.1:9",  # nothing listens there: WAHA is reported down at once
            "PUBLIC_BASE_URL": "https://api.clinica.test",  # where the closing message's feedback link points
            "TASK_MIN_BACKOFF_SECONDS": "0.01",  # in-process tasks retry at once, so tests never wait on them
            "TASK_MAX_BACKOFF_SECONDS": "0.05",
            "ASSISTANT_PROVIDER": "offline",  # a developer's GOOGLE_API_KEY never reaches Google from the tests
            "DEBOUNCE_SECONDS": "0",  # tests that exercise the debounce set it themselves
            "TYPING_SECONDS_PER_CHAR": "0",
            "CHROMA_PERSIST_DIR": str(scratch_dir(cleanup, "clinicbot-chroma-") / "empty"),
        })  # fmt: skip
        upgrade_database()
        yield found
        dispose_engines()
        _delete_namespace(found.redis_namespace)
        close_redis()


def _settle_in_process_tasks() -> bool:
    """A test's background tasks (a webhook retry, a feedback message) must not run into the next test's data or
    into the TRUNCATE that empties the tables (a deadlock): drop the ones not started, wait for the running.
    False when one is still running after the wait."""
    queue = get_task_queue() if get_task_queue.cache_info().currsize else None
    if isinstance(queue, InProcessQueue):
        return queue.discard_pending(timeout=30)
    return True


def _delete_namespace(namespace: str) -> None:
    store = get_redis()
    keys = list(store.scan_iter(match=f"{namespace}:*", count=500))
    if keys:
        store.delete(*keys)


@pytest.fixture(autouse=True)
def clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the backends starts from empty tables and an empty Redis namespace."""
    if "backends" not in request.fixturenames:
        yield
        return
    backends = request.getfixturevalue("backends")
    yield
    settled = _settle_in_process_tasks()
    with session_scope() as session:
        tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        session.execute(text(f"TRUNCATE {tables} CASCADE"))
    _delete_namespace(backends.redis_namespace)
    if not settled:  # said out loud: it may write into the next test's data
        pytest.fail("an in-process task of this test was still running 30 s after it ended")


@pytest.fixture(scope="session")
def waha_emulator(backends: Backends):
    """A WAHA emulator in this process (its session already WORKING), for tests that need WAHA to answer."""
    from local.waha_emulator import EmulatorServer

    server = EmulatorServer("127.0.0.1", 0, api_key="test-waha-key", auto_scan_delay=0.0, ack_delay=0.0).start()
    yield server
    server.stop()


@pytest.fixture
def settings_env(monkeypatch):
    """Change settings for one test (the environment is their only source); restored afterwards. Pools are
    renewed both ways, so nothing keeps talking to a database or Redis that a test switched away from."""

    def renew() -> None:
        get_settings.cache_clear()
        dispose_engines()
        close_redis()

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        renew()

    yield apply
    monkeypatch.undo()
    renew()


@pytest.fixture
def live_waha(waha_emulator, settings_env):
    """Point WAHA_URL / WAHA_API_KEY at the emulator for one test; its outbox starts empty."""
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key")
    httpx.delete(f"{waha_emulator.url}/_emulator/outbound", timeout=5)
    return waha_emulator


@pytest.fixture(scope="session")
def secretary_api(backends: Backends):
    app = functions_framework.create_app("secretary_api", str(PROJECT_ROOT / "functions/secretary_api/main.py"))
    return app.test_client()


@pytest.fixture(scope="session")
def metrics_api(backends: Backends):
    app = functions_framework.create_app("metrics_api", str(PROJECT_ROOT / "functions/metrics_api/main.py"))
    return app.test_client()


@pytest.fixture
def make_user(backends: Backends):
    def make(role: Role = Role.USER, email: str | None = None, password: str = PASSWORD) -> User:
        email = email or f"{role.value.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        with session_scope() as session:
            return create_user(session, UserCreate(email=email, full_name="Test " + role.value, password=password,
                                                   role=role), actor=None)  # fmt: skip

    return make


@pytest.fixture
def login(secretary_api):
    """Log a user in through the API and return the token pair."""

    def do_login(user: User, password: str = PASSWORD) -> dict:
        response = secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    return do_login


@pytest.fixture
def people(make_user, login):
    """An ADMIN and two secretaries, Ana and Bia: `people.ana` is the user, `people.ana_h` her auth headers."""
    found = SimpleNamespace()
    for name, role in (("admin", Role.ADMIN), ("ana", Role.USER), ("bia", Role.USER)):
        user = make_user(role)
        setattr(found, name, user)
        setattr(found, f"{name}_h", bearer(login(user)["access_token"]))
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
