"""The ``csms`` command: the local stack and provisioning from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import csms
from csms.constants import DEFAULT_TENANT
from csms.domain.tokens import DEFAULT_TYPE, STORABLE_STATUSES, STORABLE_TYPES
from csms.errors import InvalidInput

if TYPE_CHECKING:
    from csms.data.database import PgDatabase


def _parse_expiry(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csms", description="Serverless OCPP 1.6J and 2.0.1 Central System."
    )
    parser.add_argument("--version", action="version", version=f"csms {csms.__version__}")
    parser.add_argument(
        "--state-dir", type=Path, help="where the embedded PostgreSQL lives (default: .csms/ in the checkout)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="run the whole product locally until Ctrl-C")
    dev.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8180, help="port for chargers and HTTP (default 8180)")
    dev.add_argument(
        "--allow-unknown-chargers",
        action="store_true",
        help="admit chargers that were never provisioned, as Pending (CSMS_ALLOW_UNKNOWN_CHARGERS)",
    )
    dev.add_argument(
        "--aws",
        choices=("moto", "env"),
        default=None,
        help="AWS services: moto (default) or env = boto3's own configuration (AWS_ENDPOINT_URL for "
        "LocalStack, or real credentials); env is the default when AWS_ENDPOINT_URL is set",
    )
    dev.add_argument(
        "--functions",
        choices=("processes", "threads"),
        default="processes",
        help="processes (default): each function's invocations in containers of their own, as on "
        "Lambda (own module state, concurrency, cold starts, timeouts), moto in its own process; "
        "threads: every handler in this process (starts faster, hides per-container bugs)",
    )
    dev.add_argument("--log-level", default="INFO")
    dev.add_argument("--json-logs", action="store_true", help="JSON log lines as on Lambda")
    dev.add_argument(
        "--events",
        metavar="FILE",
        help="also write every domain event as a JSON line: '-' for the terminal, else a file "
        "(CSMS_EVENTS_ECHO); events always go to the local EventBridge bus",
    )

    from csms.schedules import SCHEDULES

    run_job = commands.add_parser(
        "run-job",
        help="run one scheduled job now",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one scheduled job now, as its schedule would, and print what it did. "
        "Against the running `csms dev` if there is one (its environment is in the state "
        "folder), else against a local stack started for the job; on AWS, set the "
        "functions' environment (DATABASE_URL or CSMS_DATABASE_SECRET_ARN, CSMS_*).",
        epilog="jobs:\n" + "\n".join(f"  {s.name:<20} {s.expression:<18} {s.description}" for s in SCHEDULES),
    )
    run_job.add_argument(
        "name", metavar="NAME", choices=[s.name for s in SCHEDULES], help="the job (see below)"
    )
    run_job.add_argument(
        "--local",
        action="store_true",
        help="always start a local stack for the job, even if `csms dev` is running",
    )

    chargers = commands.add_parser("chargers", help="provision charge points").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    add = chargers.add_parser("add", help="provision a charge point")
    add.add_argument("id", help="charge point id: the last segment of the charger's URL")
    secret = add.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--password", help="HTTP Basic auth password, 16-40 characters (Security Profile 1/2); stored hashed"
    )
    secret.add_argument(
        "--generate-password", action="store_true", help="generate a password and print it once"
    )
    secret.add_argument(
        "--no-password",
        action="store_true",
        help="let it connect without a password (Security Profile 0: anyone who knows the id can)",
    )
    add.add_argument("--tenant", default=DEFAULT_TENANT)
    listing = chargers.add_parser("list", help="list charge points")
    listing.add_argument("--tenant")
    remove = chargers.add_parser("remove", help="remove a charge point (one without transactions)")
    remove.add_argument("id")
    remove.add_argument("--tenant")

    idtokens = commands.add_parser(
        "idtokens", aliases=["idtags"], help="provision id tokens (1.6: id tags)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    tag_add = idtokens.add_parser("add", help="add an id token")
    tag_add.add_argument("tag", help="the token's value (max 36 characters; a 1.6 station takes 20)")
    tag_add.add_argument(
        "--type",
        default=DEFAULT_TYPE.value,
        choices=[t.value for t in STORABLE_TYPES],
        help=f"how it is presented (default {DEFAULT_TYPE.value}: an RFID card)",
    )
    tag_add.add_argument("--status", default="Accepted", choices=[s.value for s in STORABLE_STATUSES])
    tag_add.add_argument("--expiry", type=_parse_expiry, help="expiry date, ISO 8601 (UTC if no zone)")
    tag_add.add_argument("--group", "--parent", dest="group", help="its group's value (1.6: parentIdTag)")
    tag_add.add_argument("--tenant", default=DEFAULT_TENANT)
    tag_list = idtokens.add_parser("list", help="list id tokens")
    tag_list.add_argument("--tenant")

    db = commands.add_parser("db", help="database maintenance").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply migrations (csms dev does this on start)")
    db.add_parser("url", help="print the database URL the commands use")

    token = commands.add_parser("token", help="API tokens for the local stack").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    token_create = token.add_parser("create", help="print a bearer token that csms dev accepts")
    token_create.add_argument("--tenant", default=DEFAULT_TENANT)
    token_create.add_argument("--role", required=True, choices=("viewer", "operator", "admin"))
    token_create.add_argument("--ttl", default="1h", help="lifetime: seconds or 30m, 1h, 7d (default 1h)")
    token_create.add_argument("--subject", help="the token's sub claim (default: a random id)")

    openapi = commands.add_parser("openapi", help="write the REST API's OpenAPI document")
    openapi.add_argument("--output", type=Path, help="file to write (default: standard output)")

    events_doc = commands.add_parser("events-doc", help="write docs/events.md from the event catalogue")
    events_doc.add_argument("--output", type=Path, help="file to write (default: standard output)")

    cost = commands.add_parser("cost", help="estimate the monthly AWS bill for a fleet")
    from csms.cost.model import add_arguments as add_cost_arguments

    add_cost_arguments(cost)
    return parser


@contextmanager
def _database(state_dir: Path | None) -> Iterator[tuple[PgDatabase, str]]:
    """The same database ``csms dev`` uses: DATABASE_URL, or the embedded one (started for
    the duration of the command if ``csms dev`` is not running)."""
    from csms.data.database import PgDatabase, make_engine
    from csms.data.migrate import upgrade
    from csms.settings import default_state_dir, get_settings

    settings = get_settings()
    postgres = None
    url = settings.database_url
    if url is None:
        from csms.local.postgres import EmbeddedPostgres
        from csms.local.stack import DATABASE_NAME

        postgres = EmbeddedPostgres((state_dir or settings.state_dir or default_state_dir()) / "pgdata")
        postgres.start()
        url = postgres.create_database(DATABASE_NAME)
        if postgres.in_use_elsewhere:
            # A running csms dev (or another live process) uses it: leave it running.
            print(f"Using the PostgreSQL server of {postgres.owner}; it keeps running.", file=sys.stderr)
            postgres = None
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield PgDatabase(engine), url
    finally:
        engine.dispose()
        if postgres is not None:
            postgres.stop()


def _table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def _run_chargers(args: argparse.Namespace) -> int:
    from csms.services.provisioning import ProvisioningService

    now = datetime.now(UTC)
    with _database(args.state_dir) as (db, _):
        service = ProvisioningService(db)
        if args.action == "add":
            added = service.add_charger(
                args.id,
                args.tenant,
                now,
                password=args.password,
                generate=args.generate_password,
                security_profile=0 if args.no_password else None,
            )
            auth = (
                "Basic auth required"
                if added.charge_point.needs_password
                else "security profile 0: no password"
            )
            print(
                f"added charge point {added.charge_point.id} (tenant {added.charge_point.tenant_id}, {auth})"
            )
            if added.generated_password:
                print(f"password (shown once): {added.generated_password}")
        elif args.action == "list":
            rows = [
                (
                    c.id,
                    c.tenant_id,
                    c.registration_status.value,
                    "yes" if c.needs_password else "no",
                    c.vendor,
                    c.model,
                    c.firmware_version,
                    _iso(c.last_boot_at),
                    str(c.security_profile),
                )
                for c in service.list_chargers(args.tenant)
            ]
            print(
                _table(
                    rows,
                    (
                        "ID",
                        "TENANT",
                        "STATUS",
                        "PASSWORD",
                        "VENDOR",
                        "MODEL",
                        "FIRMWARE",
                        "LAST BOOT",
                        "PROFILE",
                    ),
                )
            )
        elif args.action == "remove":
            service.remove_charger(args.id, args.tenant)
            print(f"removed charge point {args.id}")
    return 0


def _run_idtokens(args: argparse.Namespace) -> int:
    from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType
    from csms.services.provisioning import ProvisioningService

    now = datetime.now(UTC)
    with _database(args.state_dir) as (db, _):
        service = ProvisioningService(db)
        if args.action == "add":
            stored = service.add_id_token(
                args.tag,
                args.tenant,
                now,
                type=IdTokenType(args.type),
                status=AuthorizationStatus(args.status),
                expiry_date=args.expiry,
                group=IdToken(args.group) if args.group else None,
            )
            print(
                f"added id token {stored.token.value} ({args.type}, tenant {stored.tenant_id}, "
                f"{stored.status.value})"
            )
        else:
            rows = [
                (
                    t.token.value,
                    t.token.type.value if t.token.type else "",
                    t.tenant_id,
                    t.status.value,
                    _iso(t.expiry_date),
                    t.group.value if t.group else None,
                )
                for t in service.list_id_tokens(args.tenant)
            ]
            print(_table(rows, ("ID TOKEN", "TYPE", "TENANT", "STATUS", "EXPIRY", "GROUP")))
    return 0


def _run_db(args: argparse.Namespace) -> int:
    from csms.data.migrate import current_revision

    with _database(args.state_dir) as (db, url):
        if args.action == "upgrade":
            print(f"database at revision {current_revision(db.engine)}")
        else:
            print(url)
    return 0


def _run_dev(args: argparse.Namespace) -> int:
    import os

    from csms.local.postgres import describe_process
    from csms.local.stack import LocalStack, StackConfig

    describe_process("csms dev")  # what other csms commands say when they use its database

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)-7s %(name)s  %(message)s"
    )
    for noisy in ("aiohttp.access", "werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from csms.settings import get_settings

    settings = get_settings()
    aws = args.aws or ("env" if os.environ.get("AWS_ENDPOINT_URL") else "moto")
    stack = LocalStack(
        StackConfig(
            host=args.host,
            port=args.port,
            state_dir=args.state_dir or settings.state_dir,
            database_url=settings.database_url,
            aws=aws,
            allow_unknown_chargers=args.allow_unknown_chargers or settings.allow_unknown_chargers,
            log_format="json" if args.json_logs else "console",
            log_level=args.log_level.upper(),
            environment={"CSMS_EVENTS_ECHO": args.events} if args.events else {},
            publish_environment=True,
            functions=args.functions,
        )
    )

    async def serve() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stack.start()
        aws_description = f"moto at {stack.aws_endpoint}" if aws == "moto" else "from the environment"
        try:
            console = f"  console              {stack.console_url()}\n"
            if not stack.console.built:
                from csms.local.console import BUILD_HINT

                console += f"                       (not built: no {stack.console.dist}; run {BUILD_HINT})\n"
            print(
                f"\ncsms {csms.__version__} is running\n"
                f"{console}"
                f"  stations connect to  {stack.charger_url()}  (subprotocol ocpp2.0.1 or ocpp1.6)\n"
                f"  health               http://{args.host}:{stack.config.port}/health\n"
                f"  database             {stack.database_url}\n"
                f"  AWS services         {aws_description}\n"
                "  provision a charger  csms chargers add CP-1 --generate-password\n"
                "  an id token          csms idtokens add TAG-1\n"
                "Ctrl-C stops everything.\n",
                flush=True,
            )
            await stopping.wait()
        finally:
            print("stopping...", flush=True)
            await stack.stop()

    asyncio.run(serve())
    return 0


def _run_job(args: argparse.Namespace) -> int:
    import os

    from csms.local.stack import BackgroundStack, StackConfig, running_environment
    from csms.settings import default_state_dir, get_settings

    logging.basicConfig(level=logging.WARNING)
    state_dir = args.state_dir or get_settings().state_dir or default_state_dir()
    environment = None if args.local or get_settings().database_url else running_environment(state_dir)
    if environment is not None or get_settings().database_url:
        # The running `csms dev` (or AWS / an explicit database): use its services.
        os.environ.update(environment or {})
        get_settings.cache_clear()
        from csms.app.scheduled import run

        result = run(args.name)
    else:
        background = BackgroundStack(
            # The job runs in this process: no function containers to start.
            StackConfig(
                port=0, state_dir=state_dir, run_schedules=False, log_level="WARNING", functions="threads"
            )
        )
        background.start()
        try:
            from csms.app.scheduled import run

            result = run(args.name)
        finally:
            background.stop()
    print(json.dumps({"job": args.name, **result}, default=str))
    return 0


def _run_token(args: argparse.Namespace) -> int:
    from csms.local.tokens import create_token, parse_ttl, signing_key
    from csms.settings import default_state_dir, get_settings

    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    key = signing_key(args.state_dir or get_settings().state_dir or default_state_dir())
    print(create_token(key, args.tenant, args.role, ttl, args.subject))
    return 0


def _run_openapi(args: argparse.Namespace) -> int:
    from csms.api.app import build_app, openapi_document

    return _write(json.dumps(openapi_document(build_app()), indent=2, sort_keys=True) + "\n", args.output)


def _run_events_doc(args: argparse.Namespace) -> int:
    from csms.eventsdoc import render

    return _write(render(), args.output)


def _write(text: str, output: Path | None) -> int:
    """A generated document to ``output``, or standard output."""
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def _run_cost(args: argparse.Namespace) -> int:
    from csms.cost.model import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csms`` console script."""
    args = build_parser().parse_args(argv)
    from csms.errors import AlreadyExists, NotFound
    from csms.settings import SettingsError

    runners = {
        "dev": _run_dev,
        "chargers": _run_chargers,
        "idtokens": _run_idtokens,
        "idtags": _run_idtokens,
        "db": _run_db,
        "token": _run_token,
        "openapi": _run_openapi,
        "run-job": _run_job,
        "events-doc": _run_events_doc,
        "cost": _run_cost,
    }
    try:
        return runners[args.command](args)
    except (AlreadyExists, InvalidInput, NotFound) as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
