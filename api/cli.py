"""The `gridmap` command: serve, import, generate, export, check, sample."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gis.errors import GridmapError, InvalidInput
from gis.sample import SAMPLE_DIR, SAMPLE_FILES
from gis.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from gis.store.database import Database

log = logging.getLogger("gridmap")



def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def _opened(settings: Settings, database: Database | None = None) -> Iterator[Database]:
    """The given database, or one opened (and, if embedded and started here, stopped) for this command."""
    if database is not None:
        yield database
        return
    from gis.store.database import open_database

    opened = open_database(settings)
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """One unit of work on a database opened for this command."""
    with _opened(settings) as database, database.session() as session:
        yield session


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
                log_level="info")
    return 0


def import_file(settings: Settings, kind: str, path: Path, *, crs: str | None = None, layer: str | None = None,
                repair: bool = False, database: Database | None = None) -> dict[str, int]:
    """Read, check and load one file in one transaction; nothing is written if any check fails."""
    from gis.importing import check_file, read_source
    from gis.store.loaders import load

    _progress(f"{kind}: reading {path}")
    frame = read_source(path, layer=layer, kind=kind)  # type: ignore[arg-type]
    _progress(f"{kind}: checking {len(frame)} features")
    checked = check_file(kind, frame, declared_crs=crs, repair=repair, source=path.name)  # type: ignore[arg-type]
    for fixed in checked.repaired:
        _progress(f"{kind}: repaired feature {fixed.index}: {fixed.reason}")
    with _opened(settings, database) as opened, opened.session() as session:
        result = load(session, checked, progress=_progress)
    _progress(f"{kind}: done {result}")
    return result


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import_file(settings, args.kind, Path(args.file), crs=args.crs, layer=args.layer, repair=args.repair)
    return 0


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    """Load (or refresh) the sample district, add a year of case history if it has none and the institutional
    records (gis/sample/institutions.py) if it has none, and print a fresh sign-in link for the demo
    command-centre screen and a password for the demo grid worker. Idempotent."""
    from datetime import timedelta

    from sqlalchemy import text

    from gis.sample.history import generate_history
    from gis.sample.institutions import generate_institutions, has_institutions

    with _opened(settings) as database:  # one database for every step: the embedded server starts once
        for kind, name in SAMPLE_FILES:
            import_file(settings, kind, SAMPLE_DIR / name, database=database)
        with database.session() as session:
            if session.execute(text("SELECT count(*) FROM service_case")).scalar_one() == 0:
                _progress("history: generating a year of cases and visits (seeded)")
                summary = generate_history(
                    session, progress=_progress, escalation_grace=timedelta(hours=settings.escalation_grace_hours)
                )
                _progress(f"history: {summary['cases']} cases, {summary['visits']} visits")
            else:
                _progress("history: cases exist already; left as they are")
        with database.session() as session:  # work days, focus households, party records, liaisons (issue 12)
            if has_institutions(session):
                _progress("institutions: sample records exist already; left as they are")
            else:
                made = generate_institutions(session, progress=_progress)
                _progress(f"institutions: {made['work_days']} work days, {made['focus_households']} focus households, "
                          f"{made['commitments']} commitments")
        with database.session() as session:
            key, worker = _demo_accounts(session)
    url = f"http://{settings.host}:{settings.port}"
    print(f"\nSample district ready. Map: {url}/  Wall map (demo command centre): {url}/wall?key={key}")
    if worker:
        print(f"Worker's phone page: {url}/m  (user {worker[0]}, password {worker[1]}; grid {worker[2]})\n")
    return 0


def _demo_accounts(session: Session) -> tuple[str, tuple[str, str, str] | None]:
    """The sample's demo accounts, refreshed on every run: the command centre's kiosk key, and a grid worker
    (tied to a person serving today in the team of the grid with most open cases) with a new random password."""
    import secrets

    from sqlalchemy import text

    from gis.store import users
    from gis.store.vocabulary import current_day, current_sql, open_case_sql, serving_sql

    exists = session.execute(text("SELECT 1 FROM app_user WHERE username = 'demo-centre'")).first()
    key = (users.reset_key(session, "demo-centre") if exists else
           users.create_user(session, "demo-centre", "command_centre", display_name="演示指挥中心"))
    serving = session.execute(text(
        "SELECT m.person_id, t.grid_code FROM team_membership AS m JOIN service_team AS t "
        "ON t.id = m.team_id AND t.district_code = m.district_code "
        f"WHERE m.role = 'grid_worker' AND {serving_sql('m', ':today')} AND {current_sql('t', ':today')} "
        f"ORDER BY (SELECT count(*) FROM service_case AS c WHERE c.grid_code = t.grid_code AND {open_case_sql('c')}) "
        "DESC, t.grid_code, m.person_id LIMIT 1"), {"today": current_day()}).mappings().first()
    if serving is None:
        return key, None
    password = secrets.token_urlsafe(9)
    if session.execute(text("SELECT 1 FROM app_user WHERE username = 'demo-worker'")).first():
        users.set_password(session, "demo-worker", password)
        users.link_person(session, "demo-worker", serving["person_id"])
    else:
        users.create_user(session, "demo-worker", "grid_worker", display_name="演示网格员", password=password,
                          person_id=serving["person_id"])
    return key, ("demo-worker", password, serving["grid_code"])


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    """A seeded synthetic city in the configured (empty) database: gis/generate."""
    from gis.generate import CityScale, generate_city

    scale = CityScale(args.grids, args.buildings, args.cases, args.seed)
    with _opened(settings) as database:
        made = generate_city(database, scale, show_progress=not args.quiet)
    _progress(f"generated {made}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store.export import export_grids

    with _session(settings) as session:
        count = export_grids(session, Path(args.file))
    _progress(f"grids: {count} written to {args.file}")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store.export import buildings_outside_grids

    with _session(settings) as session:
        outside = buildings_outside_grids(session)
    print(f"buildings outside every grid: {len(outside)}")
    for row in outside:
        print(f"  {row['code']}\t{row['lon']:.6f},{row['lat']:.6f}\t{row['street_code'] or '-'}\t{row['address']}")
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store.embedded import EmbeddedCluster

    cluster = EmbeddedCluster(settings.data_dir, settings.embedded_port)
    if args.action == "start":
        cluster.ensure_running()
        print(f"embedded PostgreSQL running: {cluster.url()}")
    elif args.action == "stop":
        cluster.stop()
    else:
        print("running" if cluster.is_running() else "stopped")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """A password from stdin (`--password-stdin`, for scripts) or typed twice at a prompt; never an argument
    (arguments show in the process list and the shell history)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"new password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ; nothing was changed")
    return first


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    """Accounts: people get a password (only its argon2 hash is stored), machines an API key (shown once)."""
    from gis.store import users

    with _session(settings) as session:
        area = {"grid_code": args.grid, "street_code": args.street, "community_code": args.community} \
            if args.action in ("add", "role") else {}
        if args.action == "add":
            users.check_role_and_area(args.role, **area)  # before asking for a password
            password = None if args.machine else _new_password(args)
            key = users.create_user(session, args.username, args.role, display_name=args.name, password=password,
                                    person_id=args.person, **area)
            shown = f"; API key (shown once): {key}" if key else "; signs in with the password given"
            print(f"user {args.username} ({args.role}) created{shown}")
        elif args.action == "passwd":
            users.set_password(session, args.username, _new_password(args))
            print(f"password of {args.username} set; their sessions have ended")
        elif args.action == "role":
            users.set_role(session, args.username, args.role, **area)
            print(f"{args.username} is now {args.role}; their sessions have ended")
        elif args.action in ("disable", "enable"):
            users.set_active(session, args.username, args.action == "enable")
            print(f"{args.username} {args.action}d")
        elif args.action == "key":
            print(f"new API key of {args.username} (shown once; the old one stops working): "
                  f"{users.reset_key(session, args.username)}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store.backup import backup

    backup(settings, Path(args.file), progress=_progress)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store.backup import restore

    restore(settings, Path(args.file), force=args.force, progress=_progress)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridmap", description="Grid-management map service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)

    imp = commands.add_parser("import", help="import communities, grids, buildings or teams from a file")
    imp.add_argument("kind", choices=["communities", "grids", "buildings", "teams"])
    imp.add_argument("file", help="GeoJSON, GeoPackage, zipped Shapefile (or CSV for teams)")
    imp.add_argument("--crs", help="coordinate system of a file that declares none, e.g. EPSG:4490")
    imp.add_argument("--layer", help="layer name in a multi-layer file")
    imp.add_argument("--repair", action="store_true", help="fix invalid polygons with make_valid")
    imp.set_defaults(run=cmd_import)

    gen = commands.add_parser("generate", help="make a seeded synthetic city (grids, buildings, a year of cases)")
    gen.add_argument("--grids", type=int, default=2_000)
    gen.add_argument("--buildings", type=int, default=20_000)
    gen.add_argument("--cases", type=int, default=50_000)
    gen.add_argument("--seed", type=int, default=2024)
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(run=cmd_generate)

    exp = commands.add_parser("export", help="export grids to a GeoPackage QGIS opens")
    exp.add_argument("what", choices=["grids"])
    exp.add_argument("file")
    exp.set_defaults(run=cmd_export)

    commands.add_parser("check", help="list buildings outside every grid").set_defaults(run=cmd_check)
    commands.add_parser("sample", help="load the sample district (idempotent)").set_defaults(run=cmd_sample)

    user = commands.add_parser("user", help="people's and machines' accounts")
    actions = user.add_subparsers(dest="action", required=True)
    from gis.store.models import UserRole

    roles = [role.value for role in UserRole]
    for name, helptext in (("add", "create an account: a person (password) or, with --machine, an API key"),
                           ("role", "change an account's role and area (its sessions end)")):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("username")
        sub.add_argument("--role", required=True, choices=roles)
        sub.add_argument("--grid", help="a grid worker's grid, given by hand (else their team memberships)")
        sub.add_argument("--street", help="a street manager's 9-digit street code")
        sub.add_argument("--community", help="a community manager's 12-digit community code")
        if name == "add":
            sub.add_argument("--name", help="display name")
            sub.add_argument("--person", type=int, help="the person id in the team records (a worker's grids)")
            sub.add_argument("--machine", action="store_true", help="an API key instead of a password")
            sub.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd = actions.add_parser("passwd", help="set or reset a password (the person's sessions end)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for name, helptext in (("disable", "disable an account: sessions and key stop at once"),
                           ("enable", "enable a disabled account again"),
                           ("key", "give an account a new API key (the old one stops)")):
        actions.add_parser(name, help=helptext).add_argument("username")
    user.set_defaults(run=cmd_user)

    bak = commands.add_parser("backup", help="write the whole database to a pg_dump archive (custom format)")
    bak.add_argument("file", help="the archive to write, e.g. gridmap-2026-03-01.dump (replaced if it exists)")
    bak.set_defaults(run=cmd_backup)

    res = commands.add_parser("restore", help="load a `gridmap backup` archive into an empty or new database")
    res.add_argument("file", help="an archive written by `gridmap backup`")
    res.add_argument("--force", action="store_true",
                     help="replace a database that holds data (the old one is dropped only once the restore succeeded)")
    res.set_defaults(run=cmd_restore)

    db = commands.add_parser("db", help="the embedded database")
    db.add_argument("action", choices=["start", "stop", "status"])
    db.set_defaults(run=cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, Settings.from_env())
    except GridmapError as error:
        print(f"gridmap: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
