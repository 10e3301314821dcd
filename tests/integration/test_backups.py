"""Backups (card 118) on the test server: real pg_dump and pg_restore, S3 through boto3 against moto's S3 server
(over HTTP, as a bucket is reached in production) and a local folder."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pg8000.native
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from local.servers import create_database, drop_database
from shared.alerts.models import Alert, AlertSeverity
from shared.backups.errors import BackupCorrupt, TargetNotEmpty
from shared.backups.postgres import libpq_environment
from shared.backups.schemas import BackupKind
from shared.backups.service import create_backup, list_backups, restore_backup
from shared.backups.store import BackupStore, LocalBackupStore, S3BackupStore, get_backup_store
from shared.backups.verification import ALERT_KIND, last_good_backup_age, verify_latest
from shared.cli import main
from shared.config import Settings, get_settings
from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.errors import BadRequest
from shared.migrate import upgrade_database
from shared.users.models import Role
from shared.users.schemas import UserCreate
from shared.users.service import create_user

NIGHT = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 03:00 in São Paulo


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def databases(backends) -> Iterator:
    """Makes empty databases on the test server; drops them afterwards."""
    made = []

    def make() -> str:
        name = f"clinicbot_backup_{uuid.uuid4().hex[:10]}"
        made.append(name)
        return create_database(backends.server_url, name)

    yield make
    for name in made:
        drop_database(backends.server_url, name)


@pytest.fixture(scope="module")
def clinic(backends) -> Iterator[str]:
    """A migrated database with a secretary, a conversation and its messages (the rollup triggers' rows too)."""
    name = f"clinicbot_backup_clinic_{uuid.uuid4().hex[:8]}"
    url = create_database(backends.server_url, name)
    try:
        upgrade_database(url)
        fill_clinic(url)
        yield url
    finally:
        drop_database(backends.server_url, name)


def fill_clinic(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with Session(engine) as session, session.begin():
        ana = create_user(session, UserCreate(email="ana@example.com", full_name="Ana Souza", password="senha-123-ana",
                                              role=Role.USER), actor=None)  # fmt: skip
        conversation = Conversation(chat_id="5511987650001@c.us", phone_number="5511987650001", name="Maria",
                                    assigned_to_user_id=ana.id)  # fmt: skip
        session.add(conversation)
        session.flush()
        turns = [(MessageDirection.INBOUND, SenderKind.PATIENT, "Oi, quanto custa a consulta?"),
                 (MessageDirection.OUTBOUND, SenderKind.BOT, "A consulta custa R$ 250."),
                 (MessageDirection.INBOUND, SenderKind.PATIENT, "Vocês atendem Unimed?"),
                 (MessageDirection.OUTBOUND, SenderKind.SECRETARY, "Atendemos, sim!")]  # fmt: skip
        for minute, (direction, sender, body) in enumerate(turns):
            secretary = ana.id if sender is SenderKind.SECRETARY else None
            session.add(ConversationMessage(conversation_id=conversation.id, direction=direction, sender_kind=sender,
                                            body=body, created_at=NIGHT - timedelta(hours=5, minutes=-minute),
                                            sender_user_id=secretary))  # fmt: skip
    engine.dispose()


@pytest.fixture
def settings(backends, tmp_path) -> Settings:
    return get_settings().model_copy(update={"backup_store": "local", "backup_dir": str(tmp_path / "backups")})


@pytest.fixture
def s3_settings(settings, s3_endpoint) -> Settings:
    bucket = f"backups-{uuid.uuid4().hex[:8]}"
    s3 = {"backup_store": "s3", "backup_bucket": bucket, "backup_s3_endpoint_url": s3_endpoint,
          "backup_s3_access_key_id": "testing", "backup_s3_secret_access_key": SecretStr("testing")}  # fmt: skip
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)  # fmt: skip
    return settings.model_copy(update=s3)


def connect(url: str) -> pg8000.native.Connection:
    parts = make_url(url)
    return pg8000.native.Connection(parts.username, host=parts.host, port=parts.port, database=parts.database)


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows in a fixed order."""
    connection = connect(url)
    try:
        tables = connection.run("SELECT schemaname, tablename FROM pg_tables "
                                "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")  # fmt: skip
        digest = "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
        return {f"{schema}.{table}": tuple(connection.run(digest.format(f'"{schema}"."{table}"'))[0])
                for schema, table in tables}  # fmt: skip
    finally:
        connection.close()


def stored_bytes(store: BackupStore, key: str, tmp_path: Path) -> bytes:
    target = tmp_path / f"downloaded-{uuid.uuid4().hex[:6]}"
    store.download(key, target)
    return target.read_bytes()


def flip_bytes(store: BackupStore, key: str, tmp_path: Path) -> None:
    data = bytearray(stored_bytes(store, key, tmp_path))
    for position in range(len(data) // 2, len(data) // 2 + 16):
        data[position] ^= 0xFF
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(bytes(data))
    store.upload(key, damaged)


def database_exists(name: str) -> bool:
    connection = connect(get_settings().database_url)
    try:
        return bool(connection.run("SELECT 1 FROM pg_database WHERE datname = :name", name=name))
    finally:
        connection.close()


@pytest.mark.parametrize("store_kind", ["local", "s3"])
def test_a_backup_restores_into_an_empty_database_with_the_same_rows(store_kind, clinic, databases, settings,
                                                                     request, tmp_path):  # fmt: skip
    settings = request.getfixturevalue("s3_settings") if store_kind == "s3" else settings
    store = get_backup_store(settings)
    source = contents(clinic)

    made = create_backup(database_url=clinic, store=store, settings=settings, now=NIGHT)
    target = databases()
    restored = restore_backup(made.key, target, store=store, settings=settings)

    assert isinstance(store, S3BackupStore if store_kind == "s3" else LocalBackupStore)
    assert made.key == "backups/2026/12/04/20261204T060000Z-weekly.dump"
    assert store.keys("backups") == [made.key, made.key.removesuffix(".dump") + ".json"]
    assert made.sha256 == hashlib.sha256(stored_bytes(store, made.key, tmp_path)).hexdigest()
    assert made.tables == {table: rows for table, (rows, _) in source.items()}
    assert all(source[table][0] > 0 for table in ("public.users", "public.conversation_messages",
                                                  "public.metric_message_hourly", "public.response_waits"))  # fmt: skip
    assert contents(target) == source
    assert (restored.tables, restored.rows) == (len(source), sum(rows for rows, _ in source.values()))
    assert list_backups(store=store, settings=settings) == [made]


def test_rows_written_during_the_dump_are_in_neither_the_archive_nor_its_counts(databases, settings):
    busy = databases()
    connection = connect(busy)
    connection.run("CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
    stop = threading.Event()

    def keep_writing() -> None:
        writer = connect(busy)
        while not stop.is_set():
            writer.run("INSERT INTO visits DEFAULT VALUES")
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while connection.run("SELECT count(*) FROM visits")[0][0] < 50:
            time.sleep(0.01)
        made = create_backup(database_url=busy, settings=settings, now=NIGHT)
    finally:
        stop.set()
        thread.join()
    written = connection.run("SELECT count(*) FROM visits")[0][0]
    connection.close()
    target = databases()
    restore_backup(made.key, target, settings=settings)  # compares the restored counts with the manifest's

    assert contents(target)["public.visits"][0] == made.tables["public.visits"] < written


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(clinic, databases, settings):
    made = create_backup(database_url=clinic, settings=settings, now=NIGHT)
    target = databases()
    restore_backup(made.key, target, settings=settings)
    connection = connect(target)
    connection.run("DELETE FROM conversation_messages")
    connection.close()

    with pytest.raises(TargetNotEmpty):
        restore_backup(made.key, target, settings=settings)
    restore_backup(made.key, target, force=True, settings=settings)

    assert contents(target) == contents(clinic)


def damage_archive(store, manifest, tmp_path):
    flip_bytes(store, manifest.key, tmp_path)


def truncate_archive_and_its_checksum(store, manifest, tmp_path):
    """An archive that matches its manifest's SHA-256 but is cut short: only pg_restore can tell."""
    data = stored_bytes(store, manifest.key, tmp_path)[: manifest.size * 2 // 3]
    (tmp_path / "short.dump").write_bytes(data)
    store.upload(manifest.key, tmp_path / "short.dump")
    update = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    store.write(manifest.manifest_key, manifest.model_copy(update=update).model_dump_json().encode())


def lose_the_archive(store, manifest, tmp_path):
    store.delete([manifest.key])


def miscount_a_table(store, manifest, tmp_path):
    tables = manifest.tables | {"public.conversation_messages": manifest.tables["public.conversation_messages"] + 1}
    store.write(manifest.manifest_key, manifest.model_copy(update={"tables": tables}).model_dump_json().encode())


@pytest.mark.parametrize(("damage", "problem", "reason"), [
    (damage_archive, "SHA-256", "não confere com o SHA-256"),
    (truncate_archive_and_its_checksum, "pg_restore", "pg_restore não conseguiu"),
    (lose_the_archive, "the archive is not", "o arquivo do backup não existe mais"),
    (miscount_a_table, "other row counts than its manifest's in 1 table(s): public.conversation_messages",
     "contagens de linhas não conferem em 1 tabela"),
])  # fmt: skip
def test_a_corrupt_backup_is_refused_and_the_weekly_check_raises_an_alert(damage, problem, reason, clinic, databases,
                                                                          settings, tmp_path):  # fmt: skip
    store = get_backup_store(settings)
    made = create_backup(database_url=clinic, store=store, settings=settings, now=NIGHT)
    damage(store, made, tmp_path)
    target = databases()

    with pytest.raises(BackupCorrupt, match=re.escape(problem)):
        restore_backup(made.key, target, store=store, settings=settings)
    checked = verify_latest(store=store, settings=settings, now=NIGHT + timedelta(days=7))

    if damage is not miscount_a_table:  # nothing restored: the checksum comes first, pg_restore is one transaction
        assert contents(target) == {}
    assert (checked.key, checked.ok) == (made.key, False) and problem in checked.problem
    with session_scope() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == ALERT_KIND)).all()
    assert [(alert.severity, alert.details["key"]) for alert in alerts] == [(AlertSeverity.CRITICAL, made.key)]
    assert alerts[0].message.startswith("Backup corrompido: o backup de 04/12/2026 03:00 não passou")
    assert reason in alerts[0].message
    assert list_backups(store=store, settings=settings)[0].verification.ok is False
    assert last_good_backup_age(store=store, settings=settings) is None
    assert checked.scratch_database.startswith("clinicbot_verify_") and not database_exists(checked.scratch_database)


def test_the_weekly_check_passes_a_good_backup_without_an_alert(clinic, settings):
    made = create_backup(database_url=clinic, settings=settings, now=NIGHT)

    checked = verify_latest(settings=settings, now=NIGHT + timedelta(days=1))

    assert (checked.key, checked.ok, checked.problem) == (made.key, True, None)
    assert (checked.tables, checked.rows) == (len(made.tables), made.rows)
    with session_scope() as session:
        assert session.scalars(select(Alert)).all() == []
    assert list_backups(settings=settings)[0].verification.ok is True
    assert checked.scratch_database.startswith("clinicbot_verify_") and not database_exists(checked.scratch_database)
    assert last_good_backup_age(settings=settings, now=NIGHT + timedelta(hours=27)) == timedelta(hours=27)


def test_with_no_backup_at_all_the_weekly_check_alerts(settings):
    checked = verify_latest(settings=settings)

    assert (checked.key, checked.ok) == (None, False)
    with session_scope() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == ALERT_KIND)).one()
    assert alert.message.startswith("Nenhum backup encontrado")
    assert last_good_backup_age(settings=settings) is None


def test_retention_over_a_month_of_nightly_backups(databases, settings):
    """November 2026 begins on a Sunday: the first backup of each ISO week is that Sunday's, then Mondays'."""
    tiny = databases()
    connection = connect(tiny)
    connection.run("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'oi')")
    connection.close()
    store = get_backup_store(settings)

    for day in range(1, 31):
        create_backup(database_url=tiny, store=store, settings=settings, now=datetime(2026, 11, day, 6, tzinfo=UTC))

    kept = list_backups(store=store, settings=settings)
    weekly, daily = BackupKind.WEEKLY, BackupKind.DAILY
    # the 7 newest (24-30) and the 4 newest weekly ones (30, 23, 16, 9); 1 and 2, weekly too, are older
    expected = [(9, weekly), (16, weekly), (23, weekly), (24, daily), (25, daily), (26, daily), (27, daily),
                (28, daily), (29, daily), (30, weekly)]  # fmt: skip
    assert [(manifest.created_at.day, manifest.kind) for manifest in kept] == expected
    assert store.keys("backups") == sorted(key for m in kept for key in (m.key, m.manifest_key))
    assert sorted(path.name for path in Path(settings.backup_dir, "backups/2026/11").iterdir()) == [
        f"{day:02d}" for day, _ in expected
    ]


def test_the_newest_backup_that_restored_outlives_retention(databases, settings, tmp_path):
    tiny = databases()
    settings = settings.model_copy(update={"backup_keep_daily": 1, "backup_keep_weekly": 0})
    store = get_backup_store(settings)
    nights = [NIGHT + timedelta(days=n) for n in range(3)]

    for n, night in enumerate(nights):
        made = create_backup(database_url=tiny, store=store, settings=settings, now=night)
        if n:  # every backup after the first turns out corrupt
            flip_bytes(store, made.key, tmp_path)
        assert verify_latest(database_url=tiny, store=store, settings=settings, now=night).ok is (n == 0)

    # the second went when the third was made: then the newest (not yet checked) and the one proven to restore
    kept = list_backups(store=store, settings=settings)
    assert [(manifest.created_at, manifest.good) for manifest in kept] == [(nights[0], True), (nights[2], False)]
    age = last_good_backup_age(store=store, settings=settings, now=nights[2] + timedelta(hours=3))
    assert age == timedelta(days=2, hours=3) and age > timedelta(hours=26)  # the monitor's threshold


def test_the_command_lists_restores_and_says_what_went_wrong(clinic, databases, settings, settings_env, tmp_path,
                                                             capsys):  # fmt: skip
    settings_env(BACKUP_STORE="local", BACKUP_DIR=settings.backup_dir)
    store = get_backup_store(get_settings())
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    nights = [yesterday, yesterday - timedelta(days=1)]  # made out of order, listed by time; `create` is newer
    made = {night: create_backup(database_url=clinic, store=store, now=night) for night in nights}

    assert main(["backup", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        [m.key, str(m.size), m.kind.value, f"{m.created_at:%Y-%m-%dT%H:%M:%SZ}", "unverified"]
        for m in (made[night] for night in sorted(nights))
    ]
    newest, target = lines[-1].split()[0], databases()
    assert main(["backup", "restore", newest, "--into", target]) == 0
    assert "the counts match the manifest" in capsys.readouterr().out
    assert contents(target) == contents(clinic)

    missing = make_url(target).set(database="nao_existe", password="s3cret-pw").render_as_string(hide_password=False)
    bad_input = {"is not empty": [newest, "--into", target],
                 "no backup under": ["backups/2026/01/01/20260101T000000Z-daily.dump", "--into", target],
                 "not a backup key": ["../../etc/passwd", "--into", target],
                 "not a PostgreSQL URL": [newest, "--into", "mysql://root@127.0.0.1/clinic"],
                 "the database does not exist": [newest, "--into", missing]}  # fmt: skip
    for expected, arguments in bad_input.items():
        assert main(["backup", "restore", *arguments]) == 2, arguments
        error = capsys.readouterr().err
        assert error.startswith("clinicbot: ") and expected in error and "s3cret-pw" not in error, error

    flip_bytes(store, newest, tmp_path)
    assert main(["backup", "restore", newest, "--into", databases()]) == 1
    assert "SHA-256" in capsys.readouterr().err
    assert main(["backup", "verify"]) == 1
    assert "the restore check failed (alert raised)" in capsys.readouterr().err
    assert main(["backup", "create"]) == 0
    created = capsys.readouterr().out.split()[0]
    assert main(["backup", "list"]) == 0
    listed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [(line[0], line[-1]) for line in listed[-2:]] == [(newest, "CORRUPT"), (created, "unverified")]


def test_connection_details_reach_the_tools_through_libpq_variables_only(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "someone-elses")  # an inherited one never reaches another server
    tcp = libpq_environment("postgresql+pg8000://clinic:s3cret@db.internal:6543/clinicbot")
    socket = libpq_environment("postgresql+pg8000://clinic@/clinicbot?unix_sock=/cloudsql/p:r:i/.s.PGSQL.5432")

    assert {k: tcp[k] for k in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD")} == {
        "PGHOST": "db.internal", "PGPORT": "6543", "PGUSER": "clinic", "PGDATABASE": "clinicbot",
        "PGPASSWORD": "s3cret"}  # fmt: skip
    assert (socket["PGHOST"], socket["PGPORT"], "PGPASSWORD" in socket) == ("/cloudsql/p:r:i", "5432", False)
    with pytest.raises(BadRequest):
        libpq_environment("sqlite:///clinic.db")
