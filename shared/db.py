"""The one way to reach Postgres: the engine, the declarative base, and a session scope."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shared.config import get_settings

# Stable constraint names, so that migrations and autogenerate agree.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


UUIDPk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=uuid.uuid4)]
CreatedAt = Annotated[datetime, mapped_column(server_default=func.now(), default=utcnow)]
UpdatedAt = Annotated[datetime, mapped_column(server_default=func.now(), default=utcnow, onupdate=utcnow)]


class Timestamps:
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


_engines: dict[tuple[str, bool], Engine] = {}
_sessions: dict[Engine, sessionmaker[Session]] = {}


def _cache_pg8000_placeholder_conversion() -> None:
    """pg8000 rescans every query character by character to turn `%s` into `$1` (0.2 ms for one of the
    intake's INSERTs, more than Postgres takes to run it). For positional styles the result depends on the
    query text alone, and SQLAlchemy sends the same few texts again and again, so remember it."""
    import pg8000.legacy

    convert = pg8000.legacy.convert_paramstyle
    if hasattr(convert, "cache_info"):
        return

    @lru_cache(maxsize=2048)
    def converted_query(style: str, query: str) -> str:
        return convert(style, query, ())[0]

    def convert_paramstyle(style, query, args):
        if style not in ("format", "qmark", "numeric"):
            return convert(style, query, args)
        return converted_query(style, query), args

    convert_paramstyle.cache_info = converted_query.cache_info
    pg8000.legacy.convert_paramstyle = convert_paramstyle


TIMESTAMPTZ_OID = 1184


def _timestamptz_in(data: str):
    """Postgres' timestamptz text as a datetime: fromisoformat reads its output (3.11) about 60 times faster
    than pg8000's strptime, which was 9 ms of a 100-row conversation list (four timestamps a row). Anything it
    cannot read (infinity, BC dates) goes to pg8000's own parser."""
    try:
        return datetime.fromisoformat(data)
    except ValueError:
        from pg8000.converters import timestamptz_in

        return timestamptz_in(data)


def _register_fast_timestamps(dbapi_connection, _record) -> None:
    dbapi_connection.register_in_adapter(TIMESTAMPTZ_OID, _timestamptz_in)


def get_engine(url: str | None = None, *, autocommit: bool = False) -> Engine:
    """A small pool with pre-ping and recycle: functions scale out, Postgres connections do not.

    `autocommit=True` is a second pool for single statements on a hot path (the intake), each its own
    transaction: one round trip, where BEGIN, the statement and COMMIT take three. It has no pre-ping: the
    ping costs a round trip and, with pg8000, opens a transaction the statement would then run inside of. A
    dead connection there fails the request with 503 (the caller retries) and SQLAlchemy renews the pool.
    """
    settings = get_settings()
    url = url or settings.database_url
    if (url, autocommit) not in _engines:
        # Every model must be mapped before the first flush, or a foreign key to a table that this function
        # never imported (notifications.lead_id -> leads) cannot be resolved.
        import shared.tables  # noqa: F401

        _cache_pg8000_placeholder_conversion()
        _engines[url, autocommit] = create_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=not autocommit,
            isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
            pool_recycle=1800,
            pool_timeout=10,
            connect_args={"timeout": 10, "application_name": "clinicbot"},
        )
        event.listen(_engines[url, autocommit], "connect", _register_fast_timestamps)
    return _engines[url, autocommit]


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits when the block succeeds, rolls back when it raises, always closes."""
    engine = get_engine()
    if engine not in _sessions:
        _sessions[engine] = sessionmaker(bind=engine, expire_on_commit=False)
    session = _sessions[engine]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every pool (the local stack and the tests switch databases at run time)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _sessions.clear()


def pg_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A native Postgres enum storing the Python enum's names."""
    return Enum(enum_class, name=name, validate_strings=True)
