"""The `ged` command (Flask's CLI machinery)."""

from __future__ import annotations

import getpass
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from huey.consumer import Consumer

from ged import bootstrap
from ged.bootstrap import Container
from ged.config import SEARCH_BACKENDS, SearchSettings, load_settings
from ged.demo import DEFAULT_MAILS, load_demo, load_mails
from ged.domain.errors import ConfigurationError, GedError
from ged.domain.model import Locale, MailStatus, Role
from ged.services.admin import UserData
from ged.services.audit import Actor
from ged.services.integrity import check_integrity
from ged.services.watch import FolderWatcher
from web.extensions import container

# Claimed by a watcher that has not finished within this time: it was killed.
RECOVER_AFTER_S = 3600


def _create_app() -> Flask:
    from web import create_app

    try:
        return create_app()
    except ConfigurationError as exc:
        raise click.ClickException(exc.message) from None


def _cli_actor() -> Actor:
    return Actor.system(f"cli:{getpass.getuser()}"[:64])


def _fail(exc: GedError) -> None:
    raise click.ClickException(exc.message)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """ged: electronic document and mail management with BPMN circuits."""


@cli.command("init", with_appcontext=False)
@click.option("--new-secret", is_flag=True, help="Replace the secret key (ends every session).")
def init_command(new_secret: bool) -> None:
    """Create the instance folder (secret key, database, file store) or bring it up to date."""
    try:
        settings = bootstrap.init_instance(load_settings(), new_secret=new_secret)
    except GedError as exc:
        _fail(exc)
        return
    click.echo(f"Instance ready: {settings.instance.resolve()}")


@cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (default from settings).")
@click.option("--port", default=None, type=int, help="Port (default from settings).")
@click.option("--no-worker", is_flag=True, help="Serve web requests only.")
def serve_command(host: str | None, port: int | None, no_worker: bool) -> None:
    """Run the production web server (waitress) and a background worker together."""
    import waitress

    ged = container()
    settings = ged.settings
    host = host or settings.server.host
    port = port or settings.server.port
    from flask import current_app

    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"ged listening on http://{host}:{port}/")
    if no_worker:
        waitress.serve(app, host=host, port=port, threads=settings.server.threads, ident="ged")
        return
    web = threading.Thread(
        target=waitress.serve,
        kwargs={
            "app": app,
            "host": host,
            "port": port,
            "threads": settings.server.threads,
            "ident": "ged",
        },
        daemon=True,
        name="web",
    )
    web.start()
    if settings.capture.watch_dir:
        _start_watcher(ged, Path(settings.capture.watch_dir))
    # The worker runs in the main thread: Huey's consumer installs signal handlers, so Ctrl-C
    # and SIGTERM stop both (the web thread is a daemon).
    make_consumer(ged, workers=2).run()


# An idle consumer backs off to one look at the queue every IDLE_POLL_SECONDS (Huey's default,
# 10 s, left a scan arriving after a quiet spell waiting up to 10 s). A look at an empty SQLite
# queue is cheap: an idle two-thread worker uses 0.13 % of a core at 1 s, 0.47 % at 0.1 s, and a
# scan then waits 0.05 s on average instead of 0.5 (docs/ocr-performance.md).
IDLE_POLL_SECONDS = 0.1


def make_consumer(ged: Container, workers: int) -> Consumer:
    return ged.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=IDLE_POLL_SECONDS
    )


def _scanner_watcher(ged: Container, folder: Path) -> FolderWatcher:
    actor = Actor.system("scanner")

    def take(path: Path, name: str) -> str:
        return "\n".join(outcome.describe() for outcome in ged.basket.ingest(actor, path, name))

    watcher = FolderWatcher(folder, take, ged.settings.capture.stable_seconds)
    watcher.ensure()
    # A file claimed by a watcher killed mid-way goes back in the folder (taken whole or not
    # at all, so taking it again is safe).
    for name in watcher.recover(older_than_seconds=RECOVER_AFTER_S):
        click.echo(f"Repris : {name}")
    return watcher


def _start_watcher(ged: Container, folder: Path) -> threading.Event:
    """Watch ``folder`` in a daemon thread (``ged serve``); setting the event stops it."""
    watcher = _scanner_watcher(ged, folder)
    click.echo(f"Scanner folder: {folder.resolve()}")
    stop = threading.Event()
    threading.Thread(
        target=watcher.run,
        args=(stop, ged.settings.capture.poll_seconds),
        daemon=True,
        name="scanner-folder",
    ).start()
    return stop


@cli.command("watch")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="Look once, take the stable files, and stop.")
def watch_command(folder: Path, once: bool) -> None:
    """Take the scans dropped in FOLDER: to their mail (cover sheet) or to the basket."""
    ged = container()
    watcher = _scanner_watcher(ged, folder)
    if once:
        for taken in watcher.poll():
            click.echo(f"{'done' if taken.ok else 'failed'}: {taken.name}: {taken.reason}")
        return
    click.echo(f"Watching {folder.resolve()} (Ctrl-C to stop)")
    stop = threading.Event()
    try:
        watcher.run(stop, ged.settings.capture.poll_seconds)
    except KeyboardInterrupt:
        stop.set()


@cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
def worker_command(workers: int) -> None:
    """Run background workers alone (other machines, with GED_REDIS_URL)."""
    ged = container()
    make_consumer(ged, workers=workers).run()


@cli.group("user")
def user_group() -> None:
    """Manage user accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", default=None, help="Code of the user's unit.")
@click.option("--email", default="")
@click.option("--locale", type=click.Choice([x.value for x in Locale]), default="fr")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(
    username: str,
    full_name: str,
    role: str,
    unit_code: str | None,
    email: str,
    locale: str,
    password_stdin: bool,
) -> None:
    """Create a user account."""
    ged = container()
    actor = _cli_actor()
    unit_id = None
    if unit_code:
        unit = ged.admin.unit_by_code(actor, unit_code)
        if unit is None:
            raise click.ClickException(f"Unknown unit: {unit_code}")
        unit_id = unit.id
    password = _read_password(password_stdin)
    try:
        ged.admin.create_user(
            actor, UserData(username, full_name, role, unit_id, email, locale), password
        )
    except GedError as exc:
        _fail(exc)
    click.echo(f"User {username.lower()} created.")


@user_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    password = _read_password(password_stdin)
    try:
        container().accounts.set_password(_cli_actor(), username, password)
    except GedError as exc:
        _fail(exc)
    click.echo(f"Password of {username.lower()} changed; their sessions were ended.")


@cli.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
def token_create(username: str, name: str) -> None:
    """Print a new bearer token for USERNAME (shown once, stored hashed)."""
    try:
        token = container().accounts.create_token(_cli_actor(), username, name)
    except GedError as exc:
        _fail(exc)
        return
    click.echo(token)


@cli.command("check")
def check_command() -> None:
    """Verify stored files, orphans and the audit chain; exit 1 on any fault."""
    ged = container()
    report = check_integrity(ged.reader, ged.store)
    click.echo(
        f"{report.versions} versions, {report.objects} stored files, "
        f"{report.audit_events} audit events checked."
    )
    for fault in report.faults:
        click.echo(f"FAULT  {fault}", err=True)
    for orphan in report.orphans:
        click.echo(f"ORPHAN {orphan} (kept; no version names it)", err=True)
    for temp in report.temp_files:
        click.echo(f"note   unfinished upload left in {temp}", err=True)
    if not report.ok:
        click.echo(
            f"{len(report.faults)} fault(s), {len(report.orphans)} orphan file(s).", err=True
        )
        sys.exit(1)
    click.echo("OK")


@cli.command("reindex")
@click.option(
    "--backend",
    type=click.Choice(SEARCH_BACKENDS),
    default=None,
    help="Build this engine's index instead of the configured one's (to switch engines).",
)
def reindex_command(backend: str | None) -> None:
    """Rebuild the search index from the database (lost, locked or corrupt index)."""
    ged = container()
    search = ged.search
    target = None
    if backend is not None and backend != ged.settings.search.backend:
        settings = replace(ged.settings, search=SearchSettings(backend=backend))
        target = bootstrap.make_search_index(settings)
    total = search.total_to_index()
    try:
        with click.progressbar(length=total, label="Indexing", file=sys.stderr) as bar:
            done = search.reindex(progress=bar.update, index=target)
    except GedError as exc:
        _fail(exc)
        return
    finally:
        if target is not None:
            target.close()
    click.echo(f"{done} items indexed.")
    if target is not None:
        click.echo(
            f"The {backend} index is ready. To switch, set GED_SEARCH_BACKEND={backend} "
            "(or [search] backend) and restart the web server and the worker; edits made "
            "meanwhile are indexed by the worker's queued jobs (stop it before this command)."
        )


@cli.command("demo")
@click.option(
    "--mails",
    type=click.IntRange(min=0, max=5000),
    default=DEFAULT_MAILS,
    show_default=True,
    help="Mails to create, spread over the last eight weeks (0: organisation and users only).",
)
def demo_command(mails: int) -> None:
    """Load the demo agency: units, users (logins printed), mails, documents.

    Units and users are created when missing (safe to run again). Mails and documents are only
    added to an instance that holds no mail yet; the scanned letters are read by the
    background worker of `ged serve`.
    """
    ged = container()
    logins = load_demo(ged)
    click.echo(f"Demo logins (password for all: {logins[0].password}):")
    for login in logins:
        click.echo(
            f"  {login.username:<12} {login.role.label:<22} {login.unit:<5} {login.full_name}"
        )
    if mails == 0:
        return
    try:
        report = load_mails(ged, mails)
    except GedError as exc:
        _fail(exc)
        return
    if report.existing:
        click.echo(
            f"Courriers : l'instance en contient déjà {report.existing} ; "
            "aucun courrier de démonstration ajouté."
        )
        return
    directions = report.by_direction
    click.echo(
        f"Courriers créés : {report.created} ({directions['incoming']} arrivée, "
        f"{directions['outgoing']} départ, {directions['internal']} interne), "
        f"dont {report.arabic} en arabe et {report.scans} numérisés."
    )
    statuses = ", ".join(
        f"{MailStatus(status).label.lower()} {count}"
        for status, count in sorted(report.by_status.items())
    )
    click.echo(f"Statuts : {statuses}.")
    click.echo(
        f"Tâches en retard : {report.overdue_tasks}. Documents de la bibliothèque : "
        f"{report.documents}."
    )
    click.echo(
        f"Chargé en {report.seconds:.0f} s. Les numérisations sont lues (OCR) en arrière-plan "
        "par `ged serve` ; voir docs/demo.md."
    )


def main() -> None:
    cli(prog_name="ged")


@cli.group("mail")
def mail_group() -> None:
    """Mail registry tasks."""


class _FileRefused(click.ClickException):
    """A file-level problem: nothing was imported (exit status 2)."""

    exit_code = 2


@mail_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row as an import would; write nothing.")
@click.option(
    "--delimiter",
    type=click.Choice([";", ","]),
    default=None,
    help="Cell separator (default: guessed from the header line).",
)
def mail_import(file: str, dry_run: bool, delimiter: str | None) -> None:
    """Import a paper register: one registered mail per row of FILE (CSV).

    \b
    The first line names the columns, in any order (English or French names):
      direction      incoming/outgoing/internal, or arrivée/départ/interne   [required]
      date           received or sent date, DD/MM/YYYY or YYYY-MM-DD;
                     not in the future                                      [required]
      correspondent  sender or recipient; found by name or created          [required]
      subject        the letter's subject                                   [required]
      units          addressed unit codes, separated by spaces              [required]
      reference      the sender's reference
      type           mail type code (gives the processing delay)
      confidential   oui/non
      priority       normale/urgente/très urgente
    The correspondent may be empty for internal mail, the units for outgoing and
    internal mail. UTF-8 with or without BOM; cells separated by ";" or ",".

    \b
    Rows are registered in file order, each in its own transaction, as the system
    (audited): chronos follow the file, numbered in the current year; the row's
    date is kept as the received or sent date. A refused row leaves nothing and
    the other rows are still imported. See docs/operations.md.

    \b
    Exit status: 0 every row imported (or valid, with --dry-run), 1 some rows
    rejected (listed with their line and reason), 2 file refused (nothing imported).
    """
    from ged.services.mail_import import RegisterImport, RegisterRow, read_register

    try:
        with open(file, "rb") as stream:
            content = stream.read()
        register = read_register(content, delimiter)
    except OSError as exc:
        raise _FileRefused(f"Lecture impossible : {exc.strerror}") from None
    except GedError as exc:
        raise _FileRefused(exc.message) from None
    importer = RegisterImport(container().registry)
    with click.progressbar(
        length=len(register.rows),
        label="Simulation" if dry_run else "Import",
        file=sys.stderr,
    ) as bar:

        def advance(_row: RegisterRow) -> None:
            bar.update(1)

        report = importer.run(_cli_actor(), register, dry_run=dry_run, on_row=advance)
    if report.rejected:
        click.echo("Lignes rejetées :")
        for rejected in report.rejected:
            click.echo(f"  ligne {rejected.line} : {rejected.reason}")
    if dry_run:
        click.echo(
            f"Simulation : {report.total} ligne(s) lue(s), {len(report.imported)} valide(s), "
            f"{len(report.rejected)} rejetée(s). Rien n'a été enregistré."
        )
    else:
        click.echo(
            f"{report.total} ligne(s) lue(s) : {len(report.imported)} importée(s), "
            f"{len(report.rejected)} rejetée(s)."
        )
        if report.imported:
            click.echo(
                f"Chronos attribués : {report.imported[0].chrono} à {report.imported[-1].chrono}."
            )
    if not report.ok:
        sys.exit(1)


# --- circuits ------------------------------------------------------------------------------------


@cli.group("circuit")
def circuit_group() -> None:
    """Deploy BPMN circuits, run their deadlines, edit the working calendar."""


def _parse_bindings(texts: tuple[str, ...]) -> dict[str, Any]:
    from ged.services.circuits import Binding

    bindings: dict[str, Any] = {}
    for text in texts:
        lane, equals, binding = text.partition("=")
        if not equals or not lane.strip():
            raise click.BadParameter(
                f"{text!r}: écrivez COULOIR=TYPE[:VALEUR]", param_hint="--bind"
            )
        try:
            bindings[lane.strip()] = Binding.parse(binding)
        except GedError as exc:
            raise click.BadParameter(exc.message, param_hint="--bind") from None
    return bindings


@circuit_group.command("deploy")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--bind",
    "bindings",
    multiple=True,
    metavar="LANE=KIND[:VALUE]",
    help="Who works in a lane, e.g. director=top_unit_manager, service=unit:SAU, "
    "registry=role:registrar, consulted_unit=data_unit:consulted_unit. Repeat per lane.",
)
def circuit_deploy(file: str, bindings: tuple[str, ...]) -> None:
    """Validate FILE (.bpmn) and store it as the circuit's next version.

    \b
    Binding kinds: unit:CODE, unit_manager:CODE, top_unit_manager, role:ROLE,
    addressed_unit, addressed_unit_manager, data_unit:VARIABLE, data_user:VARIABLE,
    initiator. Lanes not bound keep the previous version's binding; a lane bound to
    nothing is refused. Running instances keep the version they started with.
    """
    parsed = _parse_bindings(bindings)
    try:
        with open(file, "rb") as stream:
            bpmn = stream.read()
        deployment = container().circuits.deploy(_cli_actor(), bpmn, parsed)
    except OSError as exc:
        raise click.ClickException(f"Lecture impossible : {exc.strerror}") from None
    except GedError as exc:
        _fail(exc)
        return
    if deployment.created:
        click.echo(f"Circuit {deployment.process_id} version {deployment.version} déployé.")
    else:
        click.echo(
            f"Circuit {deployment.process_id} : la version {deployment.version} est déjà ce "
            "fichier avec ces affectations ; rien à faire."
        )


@circuit_group.command("list")
def circuit_list() -> None:
    """Every deployed version, with its lane bindings (* marks the active version)."""
    try:
        circuits = container().circuits.list(_cli_actor())
    except GedError as exc:
        _fail(exc)
        return
    for circuit in circuits:
        mark = "*" if circuit.active else " "
        click.echo(
            f"{mark} {circuit.process_id} v{circuit.version}  {circuit.name}  "
            f"({circuit.deployed_at:%Y-%m-%d %H:%M} UTC, {circuit.deployed_by})"
        )
        for lane in circuit.lanes:
            click.echo(f"      {lane} = {circuit.bindings.get(lane, '?')}")


@circuit_group.command("sweep")
@click.option("--now", default=None, help="Act as if it were this ISO date-time (with offset).")
def circuit_sweep(now: str | None) -> None:
    """Wake due timers, escalate late tasks, send reminders and the outbox, once."""
    import datetime as dt

    moment = None
    if now:
        try:
            moment = dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter("date-time ISO attendue", param_hint="--now") from None
        if moment.tzinfo is None:
            raise click.BadParameter("précisez le fuseau (+01:00 ou Z)", param_hint="--now")
    report = container().tasks.sweep(moment)
    click.echo(
        f"{report.woken} instance(s) réveillée(s), {report.escalated} escalade(s), "
        f"{report.reminded} rappel(s) ; e-mails : {report.emails.sent} envoyé(s), "
        f"{report.emails.retried} à réessayer, {report.emails.failed} abandonné(s)."
    )


@circuit_group.command("holidays")
@click.option("--year", type=int, default=None)
def circuit_holidays(year: int | None) -> None:
    """List the public holidays deadlines skip."""
    for holiday in container().calendar.holidays(year):
        click.echo(f"{holiday.day.isoformat()}  {holiday.name}")


@circuit_group.command("holiday-add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name")
def circuit_holiday_add(day: Any, name: str) -> None:
    """Add a public holiday (DAY as YYYY-MM-DD): later deadlines skip it."""
    try:
        container().calendar.add(_cli_actor(), day.date(), name)
    except GedError as exc:
        _fail(exc)
    click.echo(f"{day.date().isoformat()} ajouté : {name}")


@circuit_group.command("holiday-remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def circuit_holiday_remove(day: Any) -> None:
    """Remove a public holiday (DAY as YYYY-MM-DD)."""
    try:
        container().calendar.remove(_cli_actor(), day.date())
    except GedError as exc:
        _fail(exc)
    click.echo(f"{day.date().isoformat()} retiré.")
