"""An agency with a director, a processing unit, a legal unit and a stranger, and its circuits.

Every person has an e-mail address so that notifications land in the outbox; the bundled
circuits are deployed as `ged init` deploys them, and two mail types point at them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import func, select

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import AuditEvent, CircuitInstance, OutboxEmail, Task
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import MailSettings, Settings
from ged.domain.model import Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor
from ged.services.mail import MailInput
from ged.services.tasks import TaskSummary
from tests.builders import SYSTEM
from tests.conftest import FAST_HASHER

PASSWORD = "correct horse battery"


@dataclass
class Office:
    container: Container
    dg: int
    sau: int
    sj: int
    other: int
    director: Actor
    chef: Actor
    agent: Actor
    colleague: Actor
    legal: Actor
    stranger: Actor
    clerk: Actor
    admin: Actor
    auditor: Actor
    incoming_type: int
    outgoing_type: int

    def register(
        self,
        subject: str = "Demande d'autorisation de construire",
        *,
        unit: int | None = None,
        mail_type: int | None = None,
        direction: str = "incoming",
        confidential: bool = False,
        person_ids: tuple[int, ...] = (),
    ) -> int:
        registered = self.container.registry.register(
            self.clerk,
            MailInput(
                direction,
                subject,
                correspondent_name="Commune urbaine",
                mail_type_id=mail_type if mail_type is not None else self.incoming_type,
                unit_ids=(unit if unit is not None else self.sau,),
                confidential=confidential,
                person_ids=person_ids,
            ),
        )
        return registered.id

    def inbox(self, actor: Actor) -> list[TaskSummary]:
        tasks = self.container.tasks
        return [
            *tasks.my_tasks(actor, per_page=200).rows,
            *tasks.unit_pool(actor, per_page=200).rows,
        ]

    def task(self, actor: Actor, bpmn_id: str, mail_id: int | None = None) -> TaskSummary:
        """The one task `bpmn_id` in the actor's inbox (held or in their pool)."""
        found = [
            t
            for t in self.inbox(actor)
            if t.bpmn_id == bpmn_id and (mail_id is None or t.mail_id == mail_id)
        ]
        assert len(found) == 1, [(t.bpmn_id, t.mail_id) for t in self.inbox(actor)]
        return found[0]

    def dispatch(self, mail_id: int, unit: str = "SAU", days: int | str = 10) -> TaskSummary:
        """The director sends the mail to a unit; returns the processing task."""
        dispatch = self.task(self.director, "dispatch", mail_id)
        self.container.tasks.complete(
            self.director,
            dispatch.id,
            "dispatch",
            {"addressed_unit": unit, "processing_deadline": days},
        )
        return self.task(self.agent, "process", mail_id) if unit == "SAU" else dispatch


def make_office(container: Container) -> Office:
    admin = container.admin
    with container.writer() as uow:
        container.circuits.deploy_bundled(uow.session, SYSTEM)
        uow.commit()
    dg = admin.create_unit(SYSTEM, UnitData("DG", "Direction générale"))
    sau = admin.create_unit(SYSTEM, UnitData("SAU", "Autorisations", parent_id=dg))
    sj = admin.create_unit(SYSTEM, UnitData("SJ", "Juridique", parent_id=dg))
    other = admin.create_unit(SYSTEM, UnitData("AUT", "Autre service", parent_id=dg))

    def person(username: str, role: Role, unit: int) -> Actor:
        user_id = admin.create_user(
            SYSTEM,
            UserData(
                username,
                f"Personne {username}",
                role.value,
                unit,
                email=f"{username}@agence.test",
            ),
            PASSWORD,
        )
        return Actor.of(admin.get_user(SYSTEM, user_id))

    director = person("directeur", Role.MANAGER, dg)
    chef = person("chef", Role.MANAGER, sau)
    office = Office(
        container=container,
        dg=dg,
        sau=sau,
        sj=sj,
        other=other,
        director=director,
        chef=chef,
        agent=person("agent", Role.AGENT, sau),
        colleague=person("collegue", Role.AGENT, sau),
        legal=person("juriste", Role.AGENT, sj),
        stranger=person("etranger", Role.AGENT, other),
        clerk=person("greffier", Role.REGISTRAR, dg),
        admin=person("admin", Role.ADMIN, dg),
        auditor=person("auditeur", Role.AUDITOR, dg),
        incoming_type=container.registry.create_mail_type(
            SYSTEM, "DEM", "Demande", 10, "incoming_mail"
        ),
        outgoing_type=container.registry.create_mail_type(
            SYSTEM, "REP", "Réponse", 0, "outgoing_mail"
        ),
    )
    admin.update_unit(SYSTEM, dg, UnitData("DG", "Direction générale", manager_id=director.user_id))
    admin.update_unit(
        SYSTEM, sau, UnitData("SAU", "Autorisations", parent_id=dg, manager_id=chef.user_id)
    )
    return office


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


# -- Looking at what is stored ---------------------------------------------------------------------


def count(container: Container, model: type[Any], *conditions: Any) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(func.count()).select_from(model).where(*conditions)
        ).scalar_one()


@dataclass(frozen=True)
class Footprint:
    """Everything a refused step must leave as it was."""

    tasks: tuple[tuple[int, str, int | None, int], ...]
    instances: tuple[tuple[int, int, str], ...]
    audit_events: int
    emails: int


def footprint(container: Container) -> Footprint:
    with container.reader() as uow:
        session = uow.session
        return Footprint(
            tasks=tuple(
                (row.id, row.state, row.assignee_id, row.lock_version)
                for row in session.execute(
                    select(Task.id, Task.state, Task.assignee_id, Task.lock_version).order_by(
                        Task.id
                    )
                )
            ),
            instances=tuple(
                (row.id, row.lock_version, row.state)
                for row in session.execute(
                    select(
                        CircuitInstance.id, CircuitInstance.lock_version, CircuitInstance.state
                    ).order_by(CircuitInstance.id)
                )
            ),
            audit_events=session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            emails=session.execute(select(func.count()).select_from(OutboxEmail)).scalar_one(),
        )


def emails(container: Container) -> list[OutboxEmail]:
    with container.reader() as uow:
        return list(uow.session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars())


# -- A real SMTP server on loopback ----------------------------------------------------------------


class Mailbox:
    """What an aiosmtpd server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self, address: str) -> list[EmailMessage]:
        """The messages delivered to `address`, parsed."""
        found = []
        for envelope in self.envelopes:
            if address not in envelope.rcpt_tos:
                continue
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            message = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def to(self, address: str) -> list[str]:
        """The messages delivered to `address`, each as its decoded subject and text part."""
        found = []
        for message in self.messages(address):
            text = message.get_body(preferencelist=("plain",))
            assert text is not None
            found.append(f"{message['Subject']}\n{text.get_content()}")
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int
    controller: Controller | None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Mailbox(), free_port(), None)
    server.start()
    yield server
    server.stop()


def mail_settings(settings: Settings, port: int, **overrides: Any) -> Settings:
    """Settings sending through the test's relay (plain SMTP on loopback, no DNS lookups)."""
    mail = MailSettings(
        host="127.0.0.1",
        port=port,
        sender="ged@agence.test",
        starttls=False,
        timeout_seconds=5,
        refuse_private_recipients=False,
    )
    return replace(settings, mail=replace(mail, **overrides))


MailingFactory = Callable[..., Container]


@pytest.fixture
def mailing_factory(settings: Settings, smtp: SmtpServer) -> Iterator[MailingFactory]:
    """Containers whose notifications go to the test's SMTP server, with `[mail]` overrides."""
    built: list[Container] = []

    def make(**overrides: Any) -> Container:
        mailing_settings = mail_settings(settings, smtp.port, **overrides)
        mailing_settings.instance.mkdir(parents=True, exist_ok=True)
        engine = make_engine(mailing_settings.effective_database_url)
        migrations.upgrade(engine)
        ged = bootstrap.build(
            mailing_settings, engine=engine, passwords=Passwords(FAST_HASHER), immediate_jobs=True
        )
        ged.store.ensure()
        built.append(ged)
        return ged

    yield make
    for ged in built:
        ged.dispose()


@pytest.fixture
def mailing(mailing_factory: MailingFactory) -> Container:
    return mailing_factory()
