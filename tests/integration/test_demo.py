"""`ged demo`: the organisation, then a small agency's mail loaded through the services.

One instance is loaded once for the module (30 mails on SQLite, about fifteen seconds); the
tests read it. The OCR of a scan runs in one test only (it needs tesseract).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import func, select

from ged import bootstrap
from ged.adapters.orm import (
    AuditEvent,
    CircuitInstance,
    Comment,
    Document,
    DocumentTag,
    Mail,
    MailDocument,
    Notification,
    Task,
    Unit,
    User,
    Version,
)
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.demo import DEMO_PASSWORD, UNITS, USERS, load_mails
from ged.demo.corpus import HERO_SUBJECT
from ged.demo.story import allocate
from ged.domain.model import AuditAction, MailStatus
from ged.domain.search import SearchQuery
from ged.services.audit import Actor
from ged.services.mail import MailFilter
from tests.conftest import FAST_HASHER
from tests.integration.conftest import GedCommand

MAILS = 30
ARABIC = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GedCommand, Result]]:
    """`ged init` then `ged demo --mails 30` on an SQLite instance, once for the module."""
    command = GedCommand(tmp_path_factory.mktemp("demo") / "instance", "")
    with pytest.MonkeyPatch.context() as patch:
        real_build = bootstrap.build

        def build(*args: object, **kwargs: object) -> Container:
            kwargs.setdefault("passwords", Passwords(FAST_HASHER))
            built = real_build(*args, **kwargs)
            command.containers.append(built)
            return built

        patch.setattr(bootstrap, "build", build)
        patch.setenv("FLASK_RUN_FROM_CLI", "false")
        command.ok("init")
        result = command.ok("demo", "--mails", str(MAILS))
        yield command, result
    for built in command.containers:
        built.dispose()


@pytest.fixture(scope="module")
def demo(loaded: tuple[GedCommand, Result]) -> Container:
    return loaded[0].container()


def rows(container: Container, statement: object) -> list[tuple[object, ...]]:
    with container.reader() as uow:
        return [tuple(row) for row in uow.session.execute(statement)]


def scalar(container: Container, statement: object) -> object:
    with container.reader() as uow:
        return uow.session.execute(statement).scalar_one()


def actor(container: Container, username: str) -> Actor:
    user = container.admin.user_by_name(Actor.system("tests"), username)
    assert user is not None
    return Actor.of(user)


# --- what was created -----------------------------------------------------------------------------


def test_mails_of_every_direction_and_status_are_created(demo: Container) -> None:
    by_direction = dict(rows(demo, select(Mail.direction, func.count()).group_by(Mail.direction)))
    # An answer whose turn would come after the present is not written: one or two fewer.
    assert MAILS - 2 <= sum(by_direction.values()) <= MAILS
    assert set(by_direction) == {"incoming", "outgoing", "internal"}
    statuses = {
        (direction, status)
        for direction, status in rows(demo, select(Mail.direction, Mail.status).distinct())
    }
    for status in MailStatus:
        assert ("incoming", status.value) in statuses
    assert ("outgoing", MailStatus.CLOSED.value) in statuses  # sent
    assert ("outgoing", MailStatus.IN_PROGRESS.value) in statuses


def test_incoming_mail_waits_at_every_step_of_its_circuit(demo: Container) -> None:
    waiting = {
        bpmn_id
        for (bpmn_id,) in rows(
            demo,
            select(Task.bpmn_id).where(Task.state.in_(("open", "claimed")), Task.kind == "user"),
        )
    }
    # dispatch, processing, opinions, visa; drafting, visa, signature or registration out.
    assert {"dispatch", "process", "give_opinion", "visa"} <= waiting
    assert {"draft", "approve_draft"} <= waiting
    assert waiting & {"sign", "register"}
    # A visa returned the processing for correction, and a mail was filed by the director.
    returned = rows(demo, select(Task.id).where(Task.bpmn_id == "visa", Task.outcome == "return"))
    assert returned
    ends = [events for (events,) in rows(demo, select(CircuitInstance.end_events))]
    assert any("filed" in e for e in ends)
    assert any("answered" in e for e in ends)


def test_outgoing_answers_are_linked_to_the_mail_they_answer(demo: Container) -> None:
    answers = rows(
        demo,
        select(Mail.id, Mail.answer_to_id).where(
            Mail.direction == "outgoing", Mail.answer_to_id.is_not(None)
        ),
    )
    assert answers
    for _answer, answered in answers:
        status = scalar(demo, select(Mail.status).where(Mail.id == answered))
        assert status == MailStatus.ANSWERED.value


def test_some_tasks_are_overdue_and_the_services_say_so(demo: Container) -> None:
    director = actor(demo, "directeur")
    overdue = demo.tasks.overdue(director)
    assert overdue.total > 0
    assert all(task.overdue for task in overdue.rows)
    assert demo.registry.search(director, MailFilter(overdue=True)).total > 0
    # The sweep escalated late processing to the managers, in the past.
    escalations = rows(demo, select(Task.created_at).where(Task.kind == "escalation"))
    assert escalations


def test_nothing_happens_in_the_future_and_mail_spans_weeks(demo: Container) -> None:
    now = dt.datetime.now(dt.UTC)
    today = demo.tasks.today()
    latest = rows(
        demo,
        select(func.max(Task.created_at), func.max(Task.completed_at), func.min(Task.created_at)),
    )[0]
    for moment in latest[:2]:
        assert isinstance(moment, dt.datetime)
        assert moment.replace(tzinfo=dt.UTC) <= now
    dates = [d for (d,) in rows(demo, select(Mail.mail_date))]
    assert max(dates) <= today
    assert min(dates) >= today - dt.timedelta(weeks=8)
    weeks = {d.isocalendar()[1] for d in dates}
    assert len(weeks) >= 4
    letters = rows(
        demo, select(Mail.letter_date, Mail.mail_date).where(Mail.letter_date.is_not(None))
    )
    assert all(letter <= received for letter, received in letters)
    first = latest[2]
    assert isinstance(first, dt.datetime)
    assert first.replace(tzinfo=dt.UTC) < now - dt.timedelta(weeks=3)


def test_history_and_audit_are_dated_over_the_weeks_in_order(demo: Container) -> None:
    """Each step is dated when it happens in the story, not when the demo was loaded."""
    weeks_ago = dt.datetime.now(dt.UTC) - dt.timedelta(weeks=3)
    tz = ZoneInfo(demo.settings.timezone)
    registered = rows(demo, select(Mail.registered_at, Mail.mail_date))
    # Registered on the day it was received (or written, for outgoing and internal mail).
    assert all(at.astimezone(tz).date() == day for at, day in registered)
    assert len({at.isocalendar()[1] for at, _ in registered}) >= 5
    for column in (
        Task.completed_at,
        Comment.created_at,
        Notification.created_at,
        Version.created_at,
    ):
        [(first, last)] = rows(demo, select(func.min(column), func.max(column)))
        assert isinstance(first, dt.datetime), column
        assert first < weeks_ago < last, column
    # The agency set ged up the day before its first working day with it.
    [(set_up,)] = rows(demo, select(func.max(User.created_at)))
    [(first_file,)] = rows(demo, select(func.min(Version.created_at)))
    assert isinstance(set_up, dt.datetime)
    assert isinstance(first_file, dt.datetime)
    assert set_up < first_file < set_up + dt.timedelta(days=7)
    events = rows(demo, select(AuditEvent.at, AuditEvent.action).order_by(AuditEvent.id))
    # `ged init` comes first, at the present; the organisation and the story follow in order.
    assert events[0][1] == AuditAction.INSTANCE_INITIALISED.value
    moments = [at for at, _action in events[1:]]
    assert moments == sorted(moments)
    assert moments[0] < dt.datetime.now(dt.UTC) - dt.timedelta(weeks=7)


def test_the_integrity_check_passes_after_the_demo(loaded: tuple[GedCommand, Result]) -> None:
    result = loaded[0].ok("check")
    assert result.output.rstrip().endswith("OK")
    assert " 0 audit events" not in result.output


def test_chronos_are_gapless_per_direction(demo: Container) -> None:
    numbers: dict[str, list[int]] = {}
    for direction, number in rows(demo, select(Mail.direction, Mail.number).order_by(Mail.id)):
        numbers.setdefault(str(direction), []).append(int(number))
    for found in numbers.values():
        assert found == list(range(1, len(found) + 1))


def test_every_mail_has_a_main_document_with_its_text(
    demo: Container, loaded: tuple[GedCommand, Result]
) -> None:
    files = rows(
        demo,
        select(Mail.id, Mail.subject, Version.sha256, Version.media_type)
        .join(MailDocument, MailDocument.mail_id == Mail.id)
        .join(Version, Version.document_id == MailDocument.document_id)
        .where(MailDocument.position == 0),
    )
    assert len({mail_id for mail_id, *_ in files}) == scalar(
        demo, select(func.count()).select_from(Mail)
    )
    scans = 0
    for _mail_id, subject, sha256, media_type in files:
        path = demo.store.path_for(str(sha256))
        if media_type != "application/pdf":
            scans += 1  # a PNG or TIFF scan: only OCR reads it
            continue
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if not text.strip():
            scans += 1  # a scanner's image-only PDF
            continue
        if ARABIC.search(str(subject)):
            # Shaped Arabic reads back as presentation forms: OCR gives the indexed text.
            assert ARABIC.search(text)
        else:
            # The letter says what its subject says (the text layer holds it).
            words = [w for w in str(subject).split() if len(w) > 6][:2]
            assert all(w in " ".join(text.split()) for w in words), (subject, text[:300])
    assert scans >= 3
    assert f"{scans} numérisés" in loaded[1].output


def test_the_library_has_a_classification_plan_versions_and_tags(demo: Container) -> None:
    documents = rows(
        demo,
        select(Document.id, Document.classification_id).where(
            ~Document.id.in_(select(MailDocument.document_id))
        ),
    )
    assert len(documents) >= 10
    assert all(classification is not None for _id, classification in documents)
    versions = rows(demo, select(func.count()).select_from(Version).group_by(Version.document_id))
    assert max(n for (n,) in versions) == 3
    assert scalar(demo, select(func.count()).select_from(DocumentTag)) >= 10
    reviews = rows(demo, select(Task.state).where(Task.bpmn_id == "review"))
    assert sorted(state for (state,) in reviews) == ["claimed", "done"]


def test_the_output_gives_the_logins_and_the_figures(
    demo: Container, loaded: tuple[GedCommand, Result]
) -> None:
    output = loaded[1].output
    assert f"password for all: {DEMO_PASSWORD}" in output
    for username, *_ in USERS:
        assert f"  {username} " in output
    mails = scalar(demo, select(func.count()).select_from(Mail))
    assert f"Courriers créés : {mails} (" in output
    overdue = scalar(
        demo,
        select(func.count())
        .select_from(Task)
        .where(Task.state.in_(("open", "claimed")), Task.due_at < dt.datetime.now(dt.UTC)),
    )
    assert f"Tâches en retard : {overdue}." in output


def test_every_demo_user_logs_in_through_the_accounts_service(demo: Container) -> None:
    for username, *_ in USERS:
        assert demo.accounts.log_in(username, DEMO_PASSWORD).session_token


def test_a_second_run_adds_nothing_and_says_so(
    demo: Container, loaded: tuple[GedCommand, Result]
) -> None:
    command = loaded[0]
    mails = scalar(demo, select(func.count()).select_from(Mail))
    events = scalar(demo, select(func.count()).select_from(AuditEvent))

    again = command.ok("demo", "--mails", str(MAILS))

    assert f"l'instance en contient déjà {mails} ; aucun courrier" in again.output
    assert scalar(demo, select(func.count()).select_from(Mail)) == mails
    assert scalar(demo, select(func.count()).select_from(AuditEvent)) == events


@pytest.mark.tesseract
def test_the_scanned_complaint_is_found_by_a_word_of_its_scan_only(demo: Container) -> None:
    """The story's complaint is a scan; its subject does not say « lavage », its letter does."""
    [(mail_id, subject, version_id, media_type)] = rows(
        demo,
        select(Mail.id, Mail.subject, Version.id, Version.media_type)
        .join(MailDocument, MailDocument.mail_id == Mail.id)
        .join(Version, Version.document_id == MailDocument.document_id)
        .where(Mail.subject == HERO_SUBJECT, MailDocument.position == 0),
    )
    assert "lavage" not in str(subject)
    auditor = actor(demo, "auditeur")
    demo.search.index_mail(int(mail_id))
    assert demo.search.search(auditor, SearchQuery(text=str(subject).split()[0])).total >= 1
    assert demo.search.search(auditor, SearchQuery(text="lavage")).total == 0

    assert demo.capture.extract(int(version_id)) == "done"
    demo.search.index_mail(int(mail_id))

    hits = demo.search.search(auditor, SearchQuery(text="lavage"))
    assert [hit.object_id for hit in hits.hits] == [mail_id]
    assert media_type in ("application/pdf", "image/png", "image/tiff")


# --- the organisation alone ---------------------------------------------------------------------


def count(container: Container, model: type[Unit] | type[User]) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def count_events(container: Container, action: AuditAction) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action.value)
        ).scalar_one()


def test_demo_run_twice_creates_the_organisation_once(ged: GedCommand) -> None:
    ged.ok("init")

    first = ged.ok("demo", "--mails", "0")
    second = ged.ok("demo", "--mails", "0")

    container = ged.container()
    assert count(container, Unit) == len(UNITS) == 11
    assert count(container, User) == len(USERS) == 10
    assert count_events(container, AuditAction.UNIT_CREATED) == 11
    assert count_events(container, AuditAction.USER_CREATED) == 10
    assert first.output == second.output
    assert "directeur" in first.output
    assert "Courriers" not in first.output


def test_demo_sets_unit_managers_and_parents(ged: GedCommand) -> None:
    ged.ok("init")
    ged.ok("demo", "--mails", "0")
    ged.ok("demo", "--mails", "0")

    container = ged.container()
    with container.reader() as uow:
        units = {u.code: u for u in uow.session.execute(select(Unit)).scalars()}
        managers = {
            code: unit.manager.username if unit.manager else None for code, unit in units.items()
        }
        parents = {code: unit.parent.code if unit.parent else None for code, unit in units.items()}
    assert managers == {
        "DG": "directeur",
        "DEP": "chef.dep",
        "DGU": "chef.dgu",
        "SAU": "chef.sau",
        "SJ": "directeur",
        "SPU": "chef.dep",
        "BO": None,
        "SSIG": None,
        "SCI": None,
        "DAF": None,
        "SRH": None,
    }
    assert parents == {code: parent for code, _, _, parent in UNITS}
    # The second run changed nothing: each manager was set once.
    assert count_events(container, AuditAction.UNIT_UPDATED) == 6


def test_the_same_seed_and_moment_give_the_same_mail(ged: GedCommand, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    subjects = []
    for name in ("one", "two"):
        # Two SQLite instances, whatever database the other tests use.
        ged.instance, ged.database_url = tmp_path / name / "instance", ""
        ged.ok("init")
        ged.ok("demo", "--mails", "0")
        container = ged.container()
        load_mails(container, 12, seed=7, now=now)
        subjects.append(
            rows(
                container,
                select(Mail.chrono, Mail.subject, Mail.status, Mail.mail_date).order_by(Mail.id),
            )
        )
    assert subjects[0] == subjects[1]
    assert 10 <= len(subjects[0]) <= 12


def test_allocate_gives_every_fate_its_share() -> None:
    fates = allocate(30, {"a": 1, "b": 1, "c": 8})
    assert len(fates) == 30
    assert {f: fates.count(f) for f in "abc"} == {"a": 4, "b": 4, "c": 22}
    assert allocate(2, {"a": 1, "b": 3, "c": 8}) == ["b", "c"]
    assert len(allocate(200, {"a": 3, "b": 5, "c": 7})) == 200
    assert allocate(0, {"a": 1}) == []
