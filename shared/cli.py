"""The `clinicbot` command: the local stack and operations."""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from pathlib import Path

from shared.errors import ClinicbotError, ConfigurationError


def _local(args: argparse.Namespace) -> int:
    from local.stack import run_local_stack

    gemini_port = args.gemini_emulator_port if args.gemini_emulator else None
    return run_local_stack(args.port, args.host, Path(args.data_dir), args.waha_port, args.queue, gemini_port)


def _migrate(args: argparse.Namespace) -> int:
    from shared.migrate import downgrade_database, upgrade_database

    (downgrade_database if args.down else upgrade_database)(revision=args.revision)
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from shared.config import get_settings
    from shared.db import session_scope
    from shared.users.service import ensure_admin

    settings = get_settings()
    password = args.password or (
        settings.clinicbot_admin_password.get_secret_value() if settings.clinicbot_admin_password else None
    )
    generated = False
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("Password for the new ADMIN (8+ characters): ")
    if password is None:
        password, generated = secrets.token_urlsafe(12), True
    with session_scope() as session:
        user, created = ensure_admin(session, args.email, args.name, password)
    if not created:
        print(f"{user.email} already exists; nothing changed")
        return 1
    print(f"created ADMIN {user.email}" + (f" with password {password}" if generated else ""))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from shared.openapi import build_openapi_document

    text = json.dumps(build_openapi_document(), indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from shared.conversations.sweep import sweep_unprocessed
    from shared.queue import get_task_queue

    result = sweep_unprocessed(args.older_than)
    queue = get_task_queue()
    if hasattr(queue, "join"):  # the in-process queue runs the turns in this process: wait for them
        queue.join(timeout=args.wait)
    print(f"{result.messages} unprocessed message(s) in {result.conversations} conversation(s); "
          f"{result.enqueued} turn(s) enqueued")  # fmt: skip
    return 0


def _tick(args: argparse.Namespace) -> int:
    from shared.jobs.catalogue import JOBS
    from shared.jobs.runs import Claim
    from shared.jobs.service import run_due_jobs, run_job_now
    from shared.queue import get_task_queue

    queue = get_task_queue()
    if args.job and JOBS.get(args.job) is None:
        print(f"clinicbot: no job named {args.job!r}; the jobs are {', '.join(JOBS.names)}", file=sys.stderr)
        return 2
    results = [run_job_now(JOBS.get(args.job), queue)] if args.job else run_due_jobs(JOBS, queue)
    if hasattr(queue, "join"):  # the in-process queue runs what the jobs enqueued in this process: wait for it
        queue.join(timeout=args.wait)
    for result in results:
        when = f"{result.job} {result.slot:%Y-%m-%d %H:%M} UTC"
        if result.claim is Claim.RAN:
            outcome = result.error or json.dumps(result.outcome, ensure_ascii=False)
            print(f"{when}: {result.status} in {result.duration_ms} ms (attempt {result.attempts}): {outcome}")
        else:
            print(f"{when}: {'already ' + result.status if result.claim is Claim.DONE else 'running elsewhere'}")
    if not results:
        print("no job is due (every job's latest slot has run)")
    return 1 if any(result.claim is Claim.BUSY or result.error is not None for result in results) else 0


def _kb_import(args: argparse.Namespace) -> int:
    from shared.errors import BadRequest, ValidationFailed
    from shared.knowledge.schemas import load_knowledge_base
    from shared.knowledge.store import import_knowledge_base

    try:
        data = load_knowledge_base(args.file)
    except (OSError, BadRequest, ValidationFailed) as exc:
        print(f"clinicbot: {exc}; nothing was imported", file=sys.stderr)
        for error in getattr(exc, "errors", []):
            print(f"  {error.field}: {error.message}", file=sys.stderr)
        return 2
    info = import_knowledge_base(data, progress=lambda done, total: print(f"embedding {done}/{total}", file=sys.stderr))
    print(f"knowledge base {info.version} {'imported' if info.changed else 'was already active'}: "
          f"{info.services} service(s), {info.insurance} insurance plan(s), {info.faqs} FAQ(s), "
          f"{info.passages} passage(s)")  # fmt: skip
    return 0


def _kb_show(args: argparse.Namespace) -> int:
    from shared.knowledge.store import open_knowledge_base

    knowledge = open_knowledge_base()
    if knowledge is None:
        print("no knowledge base imported yet (clinicbot kb import FILE)")
        return 1
    imported = f"{knowledge.imported_at:%Y-%m-%d %H:%M} UTC"
    print(f"knowledge base {knowledge.version}: {knowledge.clinic.name} (imported {imported}); "
          f"{len(knowledge.services)} service(s), {len(knowledge.insurance)} insurance plan(s), "
          f"{len(knowledge.faqs)} FAQ(s)")  # fmt: skip
    return 0


def _generate_data(args: argparse.Namespace) -> int:
    from shared.devdata.generate import DEV_PASSWORD, generate_data

    password = args.password or DEV_PASSWORD
    made = generate_data(args.conversations, args.messages, args.users, args.seed, password=password)
    rows = made.rows
    print(f"{made.users} secretaries (password {password!r}), {made.conversations:,} conversations, "
          f"{made.leads:,} leads, {made.messages:,} messages, {rows['turn_insights']:,} turn insights, "
          f"{rows['llm_interactions']:,} model calls, {rows['competitor_mentions']:,} competitor mentions, "
          f"{rows['feedback']:,} feedback answers in {made.seconds:.0f} s (COPY {made.phases['copy']:.0f} s, "
          f"rollups rebuilt {made.phases['rollups']:.0f} s, VACUUM ANALYZE {made.phases['vacuum']:.0f} s)")  # fmt: skip
    return 0


def _backup(args: argparse.Namespace) -> int:
    from shared.errors import BadRequest, Conflict, NotFound

    try:
        return args.backup_handler(args)
    except (BadRequest, NotFound, Conflict) as exc:  # the caller's mistake: a key, a URL, a target in use
        print(f"clinicbot: {exc}", file=sys.stderr)
        return 2


def _backup_create(args: argparse.Namespace) -> int:
    from shared.backups.service import create_backup

    made = create_backup()
    print(f"{made.key} {made.size} bytes, {made.kind}, {len(made.tables)} tables, {made.rows:,} rows")
    return 0


def _backup_list(args: argparse.Namespace) -> int:
    from shared.backups.service import list_backups
    from shared.backups.store import get_backup_store

    made = list_backups()
    for backup in made:
        checked = "unverified" if backup.verification is None else "verified" if backup.good else "CORRUPT"
        print(f"{backup.key} {backup.size} {backup.kind} {backup.created_at:%Y-%m-%dT%H:%M:%SZ} {checked}")
    if not made:
        print(f"no backups in {get_backup_store().location}", file=sys.stderr)
    return 0


def _backup_restore(args: argparse.Namespace) -> int:
    from shared.backups.service import restore_backup

    done = restore_backup(args.key, args.into, force=args.force)
    print(f"restored {done.key} into {done.database}: {done.tables} tables, {done.rows:,} rows, "
          f"the counts match the manifest ({done.seconds:.1f} s)")  # fmt: skip
    return 0


def _backup_verify(args: argparse.Namespace) -> int:
    from shared.backups.verification import verify_latest

    checked = verify_latest()
    if not checked.ok:
        print(f"clinicbot: the restore check failed (alert raised): {checked.problem}", file=sys.stderr)
        return 1
    print(f"{checked.key} restores: {checked.tables} tables, {checked.rows:,} rows ({checked.seconds:.1f} s)")
    return 0


def _add_backup_commands(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="pg_dump backups in BACKUP_STORE (exit 2: bad input, 1: failure)")
    backup.set_defaults(handler=_backup)
    backup_commands = backup.add_subparsers(dest="backup_command", required=True)
    create = backup_commands.add_parser("create", help="dump the database now, then apply retention")
    create.set_defaults(backup_handler=_backup_create)
    listing = backup_commands.add_parser("list", help="one a line, newest last: key size kind created_at checked")
    listing.set_defaults(backup_handler=_backup_list)
    restore = backup_commands.add_parser("restore", help="check a backup's SHA-256, restore it, compare row counts")
    restore.add_argument("key", help="as `clinicbot backup list` prints it")
    restore.add_argument("--into", required=True, metavar="DATABASE_URL", help="an empty database")
    restore.add_argument("--force", action="store_true", help="into a database that is not empty: replace its objects")
    restore.set_defaults(backup_handler=_backup_restore)
    verify = backup_commands.add_parser("verify", help="the weekly check: restore the newest into a scratch database")
    verify.set_defaults(backup_handler=_backup_verify)


def _add_kb_commands(commands: argparse._SubParsersAction) -> None:
    kb = commands.add_parser("kb", help="the clinic's knowledge base (services, prices, FAQs) in Chroma")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    kb_import = kb_commands.add_parser("import", help="validate a YAML file and make it the active knowledge base")
    kb_import.add_argument("file", help="e.g. local/sample_kb.yaml; a bad file changes nothing (exit status 2)")
    kb_import.set_defaults(handler=_kb_import)
    kb_show = kb_commands.add_parser("show", help="the active version and clinic (exit status 1 if none)")
    kb_show.set_defaults(handler=_kb_show)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinicbot", description="clinicbot: local stack and operations")
    parser.add_argument("--env-file", help="settings to apply first (KEY=VALUE lines; e.g. .local/stack.env)")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the whole stack on this machine")
    local.add_argument("--port", type=int, default=8080)
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--data-dir", default=".local", help="where embedded Postgres and Redis keep data")
    local.add_argument("--waha-port", type=int, default=3000, help="the WAHA emulator's port (unless WAHA_URL is set)")
    local.add_argument("--gemini-emulator", action="store_true",
                       help="run the assistant on the Gemini provider against the Gemini emulator")  # fmt: skip
    local.add_argument("--gemini-emulator-port", type=int, default=8090)
    local.add_argument(
        "--queue",
        choices=["cloudtasks", "inprocess"],
        default="cloudtasks",
        help="cloudtasks: the Cloud Tasks emulator (production's code path); inprocess: none",
    )
    local.set_defaults(handler=_local)

    migrate = commands.add_parser("migrate", help="apply migrations (or --down to a revision)")
    migrate.add_argument("--revision", default=None)
    migrate.add_argument("--down", action="store_true")
    migrate.set_defaults(handler=_migrate)

    admin = commands.add_parser("create-admin", help="create an ADMIN user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrador")
    admin.add_argument("--password", help="default: CLINICBOT_ADMIN_PASSWORD, a prompt, or a generated one")
    admin.set_defaults(handler=_create_admin)

    sweep = commands.add_parser("sweep", help="re-enqueue turns for inbound messages nobody processed")
    sweep.add_argument("--older-than", type=int, default=None, help="seconds (default: SWEEP_AFTER_SECONDS)")
    sweep.add_argument("--wait", type=float, default=60.0, help="in-process queue: seconds to wait for the turns")
    sweep.set_defaults(handler=_sweep)

    tick = commands.add_parser("tick", help="run the scheduled jobs that are due now (or --job NAME), here")
    tick.add_argument("--job", help="run this job now, for the current minute, whether or not it is due")
    tick.add_argument("--wait", type=float, default=60.0, help="in-process queue: seconds to wait for its tasks")
    tick.set_defaults(handler=_tick)

    openapi = commands.add_parser("openapi", help="print the merged OpenAPI document")
    openapi.add_argument("--output")
    openapi.set_defaults(handler=_openapi)

    generate = commands.add_parser("generate-data", help="fill the database with fake patients (development, bench)")
    generate.add_argument("--conversations", type=int, default=100_000)
    generate.add_argument("--messages", type=int, default=1_000_000)
    generate.add_argument("--users", type=int, default=8, help="secretaries (role USER) to assign conversations to")
    generate.add_argument("--seed", type=int, default=165, help="the same seed gives the same data")
    generate.add_argument("--password", help="the generated secretaries' password (default: senha-dev-123)")
    generate.set_defaults(handler=_generate_data)

    _add_kb_commands(commands)
    _add_backup_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.env_file:
        from shared.config import load_environment_file

        load_environment_file(args.env_file)
    if args.command == "migrate" and args.revision is None:
        args.revision = "base" if args.down else "head"
    try:
        return args.handler(args)
    except ConfigurationError as exc:
        print(f"clinicbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except ClinicbotError as exc:
        print(f"clinicbot: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
