"""Bulk loading with COPY FROM STDIN through pg8000, the rows streamed as CSV in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

CHUNK_ROWS = 2_000


def copy_rows(
    cursor: Any,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple],
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """COPY `rows` into `table`; None becomes NULL. Chunks are encoded as Postgres asks for them, so the rows
    are never all in memory as text."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"  # our own table and column names
    cursor.execute(statement, stream=_csv_chunks(rows, on_rows))


def _csv_chunks(rows: Iterable[tuple], on_rows: Callable[[int], None] | None) -> Iterator[bytes]:
    # In COPY's csv format an unquoted empty field is NULL, which is how csv.writer writes None. An empty
    # string would be NULL too: the generator never makes one.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending == CHUNK_ROWS:
            yield _drain(buffer)
            if on_rows:
                on_rows(pending)
            pending = 0
    if pending:
        yield _drain(buffer)
        if on_rows:
            on_rows(pending)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
