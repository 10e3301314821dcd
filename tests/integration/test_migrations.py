"""Migrations round-trip on an empty database, and the models match them exactly."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool, text

from local.servers import create_database, drop_database
from shared.migrate import downgrade_database, upgrade_database
from shared.tables import metadata


@pytest.fixture
def empty_database(backends):
    name = f"clinicbot_migrations_{uuid.uuid4().hex[:10]}"
    url = create_database(backends.server_url, name)
    yield url
    drop_database(backends.server_url, name)


def _schema(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        types = set(connection.scalars(text("SELECT typname FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid")))
    engine.dispose()
    return tables, types


def test_upgrade_then_downgrade_round_trips(empty_database):
    upgrade_database(empty_database)
    tables, enum_types = _schema(empty_database)
    downgrade_database(empty_database, "base")
    after_tables, after_types = _schema(empty_database)
    upgrade_database(empty_database)

    assert set(metadata.tables) <= tables
    assert {"user_role", "conversation_status", "delivery_ack", "session_status"} <= enum_types
    assert after_tables == {"alembic_version"} and after_types == set()
    assert set(metadata.tables) <= _schema(empty_database)[0]


def test_the_models_and_the_migrations_do_not_drift(empty_database):
    upgrade_database(empty_database)
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()

    assert differences == []


def test_the_database_enforces_the_maturity_score_range(empty_database):
    upgrade_database(empty_database)
    engine = create_engine(empty_database, poolclass=pool.NullPool)
    with engine.connect() as connection, pytest.raises(Exception, match="ck_leads_maturity_score_range"):
        connection.execute(text("INSERT INTO leads (id, phone_number, status, source, maturity_score) "
                                "VALUES (gen_random_uuid(), '5511999999999', 'NEW', 'WHATSAPP', 101)"))  # fmt: skip
    engine.dispose()
