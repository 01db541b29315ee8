"""Chrono numbers: unique and gapless per direction and year, even under parallel registrars."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from ged.adapters.orm import (
    AuditEvent,
    ChronoCounter,
    Correspondent,
    Document,
    Mail,
    MailDocument,
    Version,
)
from ged.adapters.storage import file_sha256
from ged.bootstrap import Container
from ged.config import Settings
from ged.domain.errors import ValidationError
from ged.domain.model import AuditAction
from ged.services.audit import verify_chain
from ged.services.integrity import check_integrity
from ged.services.mail import MailInput, Registered
from tests.builders import Builders
from tests.integration.concurrency import run_together
from tests.integration.registry.conftest import (
    Office,
    make_office,
    pdf,
    row_counts,
    store_files,
    upload,
)
from tests.integration.registry.workers import planned, register_mails

PROCESSES = 8
PER_PROCESS = 25
SUBJECT_RE = re.compile(r"Lot w(\d+) n(\d+)")


def register(
    container: Container, office: Office, direction: str = "incoming", **fields: object
) -> Registered:
    data: dict[str, object] = {
        "direction": direction,
        "subject": "Demande d'autorisation",
        "correspondent_name": "Commune de Salé",
    }
    if direction == "incoming":
        data["unit_ids"] = (office.unit_id,)
    if direction == "internal":
        data.pop("correspondent_name")
    data.update(fields)
    return container.registry.register(office.registrar, MailInput(**data))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shared(world_container: Container) -> Container:
    return world_container


@pytest.fixture(scope="module")
def desk(shared: Container) -> Office:
    return make_office(shared)


_years = itertools.count(2030)


@pytest.fixture
def year(shared: Container, monkeypatch: pytest.MonkeyPatch) -> int:
    """A year no other test of the module registers in: its counters start from nothing."""
    value = next(_years)
    monkeypatch.setattr(shared.registry, "today", lambda: dt.date(value, 3, 2))
    return value


def number(registered: Registered) -> int:
    return int(registered.chrono.rsplit("-", 1)[1])


def test_200_parallel_registrations_get_every_number_once_with_all_their_files(
    container: Container, settings: Settings, build: Builders, office: Office
) -> None:
    correspondent = container.registry.register(
        office.registrar,
        MailInput("outgoing", "Amorce", correspondent_name="Agence urbaine"),
    )
    with container.reader() as uow:
        correspondent_id = uow.session.execute(
            select(Mail.correspondent_id).where(Mail.id == correspondent.id)
        ).scalar_one()
    assert correspondent_id is not None
    registrar_id = office.registrar.user_id

    run_together(
        register_mails,
        [
            (settings, registrar_id, office.unit_id, correspondent_id, worker, PER_PROCESS)
            for worker in range(PROCESSES)
        ],
    )

    with container.reader() as uow:
        session = uow.session
        mails = session.execute(select(Mail).where(Mail.direction == "incoming")).scalars().all()
        files = session.execute(
            select(MailDocument.mail_id, MailDocument.position, Version)
            .join(Document, Document.id == MailDocument.document_id)
            .join(Version, Version.document_id == Document.id)
            .order_by(MailDocument.mail_id, MailDocument.position)
        ).all()
        correspondents = Counter(session.execute(select(Correspondent.name)).scalars())
        actions = Counter(session.execute(select(AuditEvent.action)).scalars())
        faults = list(verify_chain(session))

    # Every number once, none missing (grouped by year in case the run straddles midnight).
    assert len(mails) == PROCESSES * PER_PROCESS
    by_year: dict[int, list[int]] = defaultdict(list)
    for mail in mails:
        by_year[mail.year].append(mail.number)
        assert mail.chrono == f"A-{mail.year}-{mail.number:06d}"
    for numbers in by_year.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert len({m.chrono for m in mails}) == len(mails)

    # Every mail has exactly the files its worker sent, in order, each stored intact.
    files_of: dict[int, list[tuple[int, Version]]] = defaultdict(list)
    for mail_id, position, version in files:
        files_of[mail_id].append((position, version))
    expected_new = set()
    for mail in mails:
        match = SUBJECT_RE.fullmatch(mail.subject)
        assert match, mail.subject
        plan = planned(int(match[1]), int(match[2]))
        if plan.new_correspondent:
            expected_new.add(plan.new_correspondent)
        got = files_of[mail.id]
        assert [p for p, _ in got] == list(range(len(plan.files)))
        for (name, data), (_, version) in zip(plan.files, got, strict=True):
            assert version.number == 1
            assert version.original_name == name
            assert version.sha256 == hashlib.sha256(data).hexdigest()
            assert file_sha256(container.store.path_for(version.sha256)) == (
                version.sha256,
                len(data),
            )
    assert len(files) == sum(len(v) for v in files_of.values())
    # Correspondents created on the fly: once each, none duplicated.
    assert all(correspondents[name] == 1 for name in expected_new)

    # The audit chain never forked and recorded every registration and file.
    assert faults == []
    assert actions[AuditAction.MAIL_REGISTERED.value] == len(mails) + 1
    assert actions[AuditAction.DOCUMENT_CREATED.value] == len(files)
    assert actions[AuditAction.CORRESPONDENT_CREATED.value] == len(expected_new) + 1
    report = check_integrity(container.reader, container.store)
    assert report.ok, (report.faults, report.orphans)
    assert report.temp_files == []


def test_first_mails_of_the_year_are_numbered_1_2_3(
    shared: Container, desk: Office, year: int
) -> None:
    chronos = [register(shared, desk).chrono for _ in range(3)]

    assert chronos == [f"A-{year}-000001", f"A-{year}-000002", f"A-{year}-000003"]


def test_each_direction_has_its_own_sequence(shared: Container, desk: Office, year: int) -> None:
    chronos = [
        register(shared, desk, direction).chrono
        for direction in ("incoming", "outgoing", "incoming", "internal", "outgoing", "internal")
    ]

    assert chronos == [
        f"A-{year}-000001",
        f"D-{year}-000001",
        f"A-{year}-000002",
        f"I-{year}-000001",
        f"D-{year}-000002",
        f"I-{year}-000002",
    ]


def test_numbers_restart_at_1_on_the_first_registration_of_a_new_year(
    shared: Container, desk: Office, year: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared.registry, "today", lambda: dt.date(year, 12, 31))
    register(shared, desk)
    register(shared, desk)
    register(shared, desk, "outgoing")

    next(_years)  # keep the next year for this test
    monkeypatch.setattr(shared.registry, "today", lambda: dt.date(year + 1, 1, 4))
    new_year = [register(shared, desk), register(shared, desk, "outgoing")]

    assert [m.chrono for m in new_year] == [f"A-{year + 1}-000001", f"D-{year + 1}-000001"]
    with shared.reader() as uow:
        counters = uow.session.execute(
            select(ChronoCounter.direction, ChronoCounter.year, ChronoCounter.last_value)
            .where(ChronoCounter.year.in_([year, year + 1]))
            .order_by(ChronoCounter.year, ChronoCounter.direction)
        ).all()
    assert [tuple(c) for c in counters] == [
        ("incoming", year, 2),
        ("outgoing", year, 1),
        ("incoming", year + 1, 1),
        ("outgoing", year + 1, 1),
    ]


def test_registration_naming_an_unknown_unit_consumes_no_number_and_keeps_no_file(
    shared: Container, desk: Office, year: int
) -> None:
    register(shared, desk)
    before, files_before = row_counts(shared), store_files(shared)

    with pytest.raises(ValidationError, match="entités destinataires n'existe pas"):
        shared.registry.register(
            desk.registrar,
            MailInput(
                "incoming",
                "Demande",
                correspondent_name="Commune",
                unit_ids=(desk.unit_id, 999_999),
            ),
            [upload(pdf("refusée"))],
        )

    assert row_counts(shared) == before
    assert store_files(shared) == files_before
    assert number(register(shared, desk)) == 2


def test_registration_dated_in_the_future_consumes_no_number_and_keeps_no_file(
    shared: Container, desk: Office, year: int
) -> None:
    before, files_before = row_counts(shared), store_files(shared)

    with pytest.raises(ValidationError, match="dans le futur"):
        shared.registry.register(
            desk.registrar,
            MailInput(
                "incoming",
                "Demande",
                correspondent_name="Commune",
                unit_ids=(desk.unit_id,),
                mail_date=dt.date(year, 3, 3),
            ),
            [upload(pdf("demain"))],
        )

    assert row_counts(shared) == before
    assert store_files(shared) == files_before
    assert number(register(shared, desk)) == 1


def test_failure_after_the_number_is_taken_gives_the_number_back(
    shared: Container, desk: Office, year: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(shared, desk)
    before = row_counts(shared)
    lost = pdf(f"perdue {year}")

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disque plein")

    with monkeypatch.context() as patch:
        patch.setattr(shared.registry, "_attach", fail)
        with pytest.raises(RuntimeError, match="disque plein"):
            shared.registry.register(
                desk.registrar,
                MailInput(
                    "incoming", "Demande", correspondent_name="Commune", unit_ids=(desk.unit_id,)
                ),
                [upload(lost)],
            )

    assert row_counts(shared) == before
    assert number(register(shared, desk)) == 2
    report = check_integrity(shared.reader, shared.store)
    # The file reached the store before the transaction failed: like a crash, it stays as an
    # orphan that `ged check` reports (and never deletes), never as a row without a file.
    assert report.faults == []
    assert [o for o in report.orphans if o.endswith(hashlib.sha256(lost).hexdigest())]


def test_failure_on_the_first_mail_of_a_year_leaves_no_counter_behind(
    shared: Container, desk: Office, year: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("panne")

    with monkeypatch.context() as patch:
        patch.setattr(shared.registry, "_attach", fail)
        with pytest.raises(RuntimeError):
            register(shared, desk)

    with shared.reader() as uow:
        counters = uow.session.execute(
            select(ChronoCounter).where(ChronoCounter.year == year)
        ).all()
    assert counters == []
    assert number(register(shared, desk)) == 1
