"""shared/db.py against the real Postgres: what pg8000 hands back once our timestamp reader is in place."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from shared.db import session_scope


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2026-06-06 07:18:36.043149+00", datetime(2026, 6, 6, 7, 18, 36, 43149, tzinfo=UTC)),
        ("2026-06-06 07:18:36.5-03", datetime(2026, 6, 6, 10, 18, 36, 500000, tzinfo=UTC)),  # trailing zeros cut
        ("2026-06-06 07:18:36+00", datetime(2026, 6, 6, 7, 18, 36, tzinfo=UTC)),
    ],
)
def test_timestamps_come_back_as_aware_datetimes(backends, literal, expected):
    with session_scope() as session:
        value = session.scalar(text("SELECT CAST(:t AS timestamptz)"), {"t": literal})
    assert value == expected and value.utcoffset() == timedelta(0)


def test_a_zone_with_seconds_and_the_values_iso_cannot_read_still_arrive(backends):
    with session_scope() as session:
        session.execute(text("SET LOCAL TIME ZONE 'America/Sao_Paulo'"))
        old = session.scalar(text("SELECT CAST('1900-01-01 00:00:00-03:06:28' AS timestamptz)"))
        infinite = session.scalar(text("SELECT CAST('infinity' AS timestamptz)"))
    assert old.utcoffset() == -timedelta(hours=3, minutes=6, seconds=28)
    assert old == datetime(1900, 1, 1, 3, 6, 28, tzinfo=UTC)
    assert infinite == "infinity"  # pg8000's own parser, as before
