"""The one place that wires adapters into services."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from zoneinfo import ZoneInfo

from huey import Huey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ged import migrations
from ged.adapters.db import make_engine, make_sessionmakers
from ged.adapters.jobs import Jobs, make_huey
from ged.adapters.mailer import SmtpMailer
from ged.adapters.orm import Holiday
from ged.adapters.passwords import Passwords
from ged.adapters.storage import FileStore
from ged.adapters.uow import UnitOfWork
from ged.clock import Clock, utc_now
from ged.config import SEARCH_BACKENDS, Settings, check_secret_key
from ged.domain.calendar import MOROCCAN_HOLIDAYS
from ged.domain.errors import ConfigurationError
from ged.domain.model import AuditAction
from ged.domain.search import SearchIndex
from ged.services.accounts import Accounts
from ged.services.admin import Administration
from ged.services.audit import Actor, record
from ged.services.basket import Basket
from ged.services.capture import TextExtraction
from ged.services.circuits import Calendar, Circuits
from ged.services.dashboards import Dashboards
from ged.services.documents import Documents
from ged.services.mail import Registry
from ged.services.notifications import Notifications, Outbox
from ged.services.search import Search
from ged.services.tasks import Delegations, Tasks
from workflows.engine import default_engine

MEGABYTE = 1024 * 1024


@dataclass
class Container:
    settings: Settings
    engine: Engine
    store: FileStore
    passwords: Passwords
    accounts: Accounts
    admin: Administration
    documents: Documents
    capture: TextExtraction
    registry: Registry
    basket: Basket
    search: Search
    circuits: Circuits
    tasks: Tasks
    delegations: Delegations
    calendar: Calendar
    outbox: Outbox
    notifications: Notifications
    dashboards: Dashboards
    jobs: Jobs
    writer: Callable[[], UnitOfWork]
    reader: Callable[[], UnitOfWork]
    clock: Clock = utc_now

    @property
    def huey(self) -> Huey:
        return self.jobs.huey

    def dispose(self) -> None:
        self.search.index.close()
        self.engine.dispose()


def build(
    settings: Settings,
    engine: Engine | None = None,
    passwords: Passwords | None = None,
    immediate_jobs: bool = False,
    clock: Clock = utc_now,
) -> Container:
    """Wire every service; refuses to run with a missing, default or short secret key.

    ``clock`` is the time every service reads (real UTC time unless a caller replays a story).
    """
    check_secret_key(settings.secret_key)
    engine = engine or make_engine(settings.effective_database_url)
    passwords = passwords or Passwords()
    write_factory, read_factory = make_sessionmakers(engine)
    zone = ZoneInfo(settings.timezone)
    writer = partial(UnitOfWork, write_factory, clock, zone)
    reader = partial(UnitOfWork, read_factory, clock, zone)
    store = FileStore(settings.store_dir)
    accounts = Accounts(writer, reader, passwords, settings.security)
    max_file_bytes = settings.store.max_file_mb * MEGABYTE
    jobs = Jobs(make_huey(settings, immediate=immediate_jobs))
    documents = Documents(writer, reader, store, max_file_bytes, jobs)
    if not 1 <= settings.circuits.sweep_minutes <= 59:
        raise ConfigurationError("circuits.sweep_minutes must be between 1 and 59")
    if not 1 <= settings.capture.sweep_minutes <= 59:
        raise ConfigurationError("capture.sweep_minutes must be between 1 and 59")
    if not 1 <= settings.notifications.sweep_minutes <= 59:
        raise ConfigurationError("notifications.sweep_minutes must be between 1 and 59")
    if not 0 <= settings.notifications.digest_hour <= 23:
        raise ConfigurationError("notifications.digest_hour must be between 0 and 23")
    if not 0 <= settings.notifications.digest_due_working_days <= 30:
        raise ConfigurationError("notifications.digest_due_working_days must be between 0 and 30")
    outbox = Outbox(writer, reader, SmtpMailer(settings.mail), settings.mail, jobs)
    # One engine per process: it caches parsed definitions, shared by every request.
    circuits = Circuits(writer, reader, default_engine())
    tasks = Tasks(
        writer,
        reader,
        circuits,
        documents,
        outbox,
        jobs,
        settings.circuits,
        settings.timezone,
        max_file_bytes,
        clock=clock,
    )
    registry = Registry(
        writer,
        reader,
        documents,
        settings.registry,
        max_file_bytes,
        settings.timezone,
        jobs,
        circuits=tasks,
        clock=clock,
    )
    container = Container(
        settings=settings,
        engine=engine,
        store=store,
        passwords=passwords,
        accounts=accounts,
        admin=Administration(writer, reader, passwords, settings.security, accounts),
        documents=documents,
        capture=TextExtraction(
            writer,
            reader,
            store,
            documents,
            jobs,
            settings.ocr,
            settings.capture,
            settings.instance / "work",
        ),
        registry=registry,
        basket=Basket(
            writer,
            reader,
            store,
            documents,
            registry,
            jobs,
            settings.capture,
            settings.ocr.max_pages,
            min(max_file_bytes, settings.ocr.max_file_mb * MEGABYTE),
            settings.instance / "work",
            settings.ocr.page_time_limit_s,
        ),
        search=Search(writer, reader, make_search_index(settings)),
        circuits=circuits,
        tasks=tasks,
        delegations=Delegations(writer, reader, tasks.today),
        calendar=Calendar(writer, reader),
        outbox=outbox,
        notifications=Notifications(
            writer, reader, outbox, settings.notifications, settings.timezone, clock=clock
        ),
        dashboards=Dashboards(reader, settings.timezone, clock=clock),
        jobs=jobs,
        writer=writer,
        reader=reader,
        clock=clock,
    )
    from ged.jobs import register_jobs

    register_jobs(container)
    return container


def make_search_index(settings: Settings) -> SearchIndex:
    """The configured engine's index, in ``<instance>/index/<backend>``.

    Imported on demand: an installation loads only the engine it runs."""
    backend = settings.search.backend
    if backend == "whoosh":
        from ged.adapters.search_whoosh import WhooshSearchIndex

        return WhooshSearchIndex(settings.index_dir)
    if backend == "tantivy":
        from ged.adapters.search_tantivy import TantivySearchIndex

        return TantivySearchIndex(settings.index_dir)
    raise ConfigurationError(
        f"search.backend: unknown search engine {backend!r} ({', '.join(SEARCH_BACKENDS)})"
    )


def init_instance(settings: Settings, new_secret: bool = False) -> Settings:
    """Create the instance folder, its secret key and store, and bring the schema to head.

    Idempotent: an existing key is kept unless ``new_secret`` (which ends every session).
    """
    settings.instance.mkdir(parents=True, exist_ok=True)
    key_path = settings.secret_key_path
    if new_secret or not key_path.exists():
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # open() applies the mode only when it creates the file: an existing one keeps its own.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    if not settings.secret_key or new_secret:
        settings = replace(settings, secret_key="").with_secret_from_instance()
    FileStore(settings.store_dir).ensure()
    engine = make_engine(settings.effective_database_url)
    try:
        first_time = migrations.current_revision(engine) is None
        migrations.upgrade(engine)
        container = build(settings, engine=engine)
        actor = Actor.system("ged init")
        with container.writer() as uow:
            seed_holidays(uow.session)
            # A new instance records its bundled circuits in its one "initialised" event; an
            # instance upgraded to a ged with circuits records each deployment on its own.
            circuits = container.circuits.deploy_bundled(uow.session, actor, audit=not first_time)
            if first_time:
                record(
                    uow.session,
                    actor,
                    AuditAction.INSTANCE_INITIALISED,
                    details={"circuits": circuits},
                )
            uow.commit()
    finally:
        engine.dispose()
    return settings


def seed_holidays(session: Session) -> None:
    """Add the known public holidays that are missing; never changes an admin's edits."""
    known = set(session.execute(select(Holiday.day)).scalars())
    for day, name in MOROCCAN_HOLIDAYS.items():
        if day not in known:
            session.add(Holiday(day=day, name=name))
