"""Correcting a registered mail (issue 3 items 6 and 7): what may change, by whom, and the audit.

Chrono, direction, number, status and the registering person never change; every correction is
one audited transaction, and a refused one changes nothing at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, Correspondent, Holiday, Mail, MailType
from ged.bootstrap import Container
from ged.domain.errors import NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Role
from ged.jobs import INDEX_MAIL
from ged.services.audit import Actor
from ged.services.mail import MailEdit, MailInput, Registered
from tests.builders import SYSTEM, Builders
from tests.integration.registry.conftest import Office


def register(container: Container, actor: Actor, office: Office, **fields: Any) -> Registered:
    values: dict[str, Any] = {
        "direction": "incoming",
        "subject": "Demande de permis",
        "correspondent_name": "Commune de Témara",
        "unit_ids": (office.unit_id,),
    }
    values.update(fields)
    return container.registry.register(actor, MailInput(**values))


def current(container: Container, mail_id: int) -> MailEdit:
    return MailEdit.of(container.registry.get(SYSTEM, mail_id))


def edit(container: Container, mail_id: int, **fields: Any) -> MailEdit:
    """The mail as it stands, with ``fields`` changed."""
    return dataclasses.replace(current(container, mail_id), **fields)


def mail_row(container: Container, mail_id: int) -> Mail:
    with container.reader() as uow:
        return uow.session.execute(select(Mail).where(Mail.id == mail_id)).scalar_one()


def updates(container: Container, mail_id: int) -> list[AuditEvent]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuditEvent)
                .where(
                    AuditEvent.action == AuditAction.MAIL_UPDATED.value,
                    AuditEvent.object_id == str(mail_id),
                )
                .order_by(AuditEvent.id)
            ).scalars()
        )


def state(container: Container, mail_id: int) -> tuple[object, ...]:
    """Every column of the mail, its units and people: to prove nothing changed."""
    mail = mail_row(container, mail_id)
    columns = tuple(getattr(mail, c.key) for c in Mail.__table__.columns)
    return (*columns, current(container, mail_id))


@pytest.fixture
def today(container: Container) -> dt.date:
    return container.registry.today()


@pytest.fixture
def registered(container: Container, office: Office, today: dt.date) -> Registered:
    return register(
        container,
        office.registrar,
        office,
        mail_date=today - dt.timedelta(days=20),
        letter_date=today - dt.timedelta(days=25),
        sender_reference="REF-1",
    )


# --- each field ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("subject", "  Demande de permis de construire  ", "Demande de permis de construire"),
        ("sender_reference", " N/Réf. 2026/77 ", "N/Réf. 2026/77"),
        ("priority", "urgent", "urgent"),
        ("confidential", True, True),
        ("channel", "email", "email"),
    ],
)
def test_each_simple_field_can_be_corrected(
    container: Container,
    office: Office,
    registered: Registered,
    field: str,
    value: object,
    expected: object,
) -> None:
    before = getattr(mail_row(container, registered.id), field)

    changes = container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, **{field: value})
    )

    assert changes == {field: [before, expected]}
    assert getattr(mail_row(container, registered.id), field) == expected


def test_dates_can_be_corrected(
    container: Container, office: Office, registered: Registered, today: dt.date
) -> None:
    letter, received = today - dt.timedelta(days=40), today - dt.timedelta(days=30)

    container.registry.update(
        office.registrar,
        registered.id,
        edit(container, registered.id, letter_date=letter, mail_date=received),
    )

    mail = mail_row(container, registered.id)
    assert (mail.letter_date, mail.mail_date) == (letter, received)


def test_letter_date_can_be_removed_and_an_empty_mail_date_keeps_the_date(
    container: Container, office: Office, registered: Registered
) -> None:
    received = mail_row(container, registered.id).mail_date

    container.registry.update(
        office.registrar,
        registered.id,
        edit(container, registered.id, letter_date=None, mail_date=None),
    )

    mail = mail_row(container, registered.id)
    assert (mail.letter_date, mail.mail_date) == (None, received)


def test_correspondent_can_be_an_existing_one_or_a_new_name(
    container: Container, office: Office, registered: Registered
) -> None:
    other = register(container, office.registrar, office, correspondent_name="Wilaya de Rabat")
    existing = mail_row(container, other.id).correspondent_id

    container.registry.update(
        office.registrar,
        registered.id,
        edit(container, registered.id, correspondent_id=existing, correspondent_name=""),
    )
    assert mail_row(container, registered.id).correspondent_id == existing

    container.registry.update(
        office.registrar,
        registered.id,
        edit(
            container,
            registered.id,
            correspondent_id=None,
            correspondent_name="  Agence   nationale des ports ",
        ),
    )
    mail = mail_row(container, registered.id)
    with container.reader() as uow:
        created = uow.session.get(Correspondent, mail.correspondent_id)
        assert created is not None
        assert created.name == "Agence nationale des ports"


def test_addressed_units_and_named_people_are_replaced(
    container: Container, office: Office, registered: Registered, build: Builders
) -> None:
    first, second = build.user(role=Role.AGENT), build.user(role=Role.AGENT)
    container.registry.update(
        office.registrar,
        registered.id,
        edit(container, registered.id, person_ids=(first, second)),
    )

    changes = container.registry.update(
        office.registrar,
        registered.id,
        edit(
            container,
            registered.id,
            unit_ids=(office.other_unit_id, office.sub_unit_id, office.other_unit_id),
            person_ids=(second,),
        ),
    )

    corrected = current(container, registered.id)
    assert sorted(corrected.unit_ids) == sorted([office.other_unit_id, office.sub_unit_id])
    assert corrected.person_ids == (second,)
    assert changes == {
        "unit_ids": [[office.unit_id], sorted([office.sub_unit_id, office.other_unit_id])],
        "person_ids": [sorted([first, second]), [second]],
    }


# --- the due date -------------------------------------------------------------------------------


def test_due_date_is_recomputed_in_working_days_when_the_type_or_the_date_changes(
    container: Container, office: Office, registered: Registered, today: dt.date
) -> None:
    ten = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
    two = container.registry.create_mail_type(SYSTEM, "URG", "Urgent", 2)
    received = mail_row(container, registered.id).mail_date
    with container.writer() as uow:  # a public holiday inside the delay
        uow.session.add(Holiday(day=received + dt.timedelta(days=1), name="Fête"))
        uow.commit()
    with container.reader() as uow:
        calendar = container.registry.calendar(uow.session)

    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, mail_type_id=ten)
    )
    assert mail_row(container, registered.id).due_on == calendar.add_working_days(received, 10)

    changes = container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, mail_type_id=two)
    )
    expected = calendar.add_working_days(received, 2)
    assert mail_row(container, registered.id).due_on == expected
    assert changes["mail_type_id"] == [ten, two]
    assert changes["due_on"][1] == expected.isoformat()

    earlier = received - dt.timedelta(days=3)  # still after the letter (5 days before)
    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, mail_date=earlier)
    )
    assert mail_row(container, registered.id).due_on == calendar.add_working_days(earlier, 2)

    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, mail_type_id=None)
    )
    mail = mail_row(container, registered.id)
    assert (mail.mail_type_id, mail.due_on) == (None, None)


def test_outgoing_mail_gets_no_due_date_from_its_type(container: Container, office: Office) -> None:
    ten = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
    outgoing = register(container, office.registrar, office, direction="outgoing", unit_ids=())

    container.registry.update(
        office.registrar, outgoing.id, edit(container, outgoing.id, mail_type_id=ten)
    )

    mail = mail_row(container, outgoing.id)
    assert (mail.mail_type_id, mail.due_on) == (ten, None)


def test_a_retired_type_may_stay_on_the_mail_that_has_it_but_not_be_chosen(
    container: Container, office: Office, registered: Registered
) -> None:
    kept = container.registry.create_mail_type(SYSTEM, "OLD", "Ancien", 5)
    retired = container.registry.create_mail_type(SYSTEM, "GONE", "Supprimé", 5)
    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, mail_type_id=kept)
    )
    with container.writer() as uow:
        for type_id in (kept, retired):
            row = uow.session.get(MailType, type_id)
            assert row is not None
            row.active = False
        uow.commit()

    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, subject="Autre objet")
    )
    with pytest.raises(ValidationError, match="Ce type de courrier n'existe pas"):
        container.registry.update(
            office.registrar, registered.id, edit(container, registered.id, mail_type_id=retired)
        )


# --- what never changes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["chrono", "direction", "year", "number", "status", "registered_by_id", "answer_to_id"]
)
def test_fields_set_at_registration_are_not_part_of_a_correction(field: str) -> None:
    with pytest.raises(TypeError):
        MailEdit(subject="Objet", **{field: "x"})  # type: ignore[arg-type]


def test_a_correction_keeps_chrono_direction_number_status_and_registrant(
    container: Container, office: Office, registered: Registered, build: Builders
) -> None:
    admin = build.actor(build.user(role=Role.ADMIN))
    before = mail_row(container, registered.id)

    container.registry.update(
        admin, registered.id, edit(container, registered.id, subject="Tout autre objet")
    )

    after = mail_row(container, registered.id)
    kept = ("chrono", "direction", "year", "number", "status", "registered_by_id", "registered_at")
    assert [getattr(after, k) for k in kept] == [getattr(before, k) for k in kept]
    assert after.registered_by_id == office.registrar.user_id


# --- who ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REGISTRAR])
def test_the_bureau_d_ordre_corrects_any_mail_it_sees(
    container: Container, office: Office, registered: Registered, build: Builders, role: Role
) -> None:
    actor = build.actor(build.user(role=role))

    container.registry.update(actor, registered.id, edit(container, registered.id, subject="Vu"))

    assert mail_row(container, registered.id).subject == "Vu"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT])
def test_others_who_see_the_mail_may_not_correct_it(
    container: Container, office: Office, registered: Registered, build: Builders, role: Role
) -> None:
    actor = build.actor(build.user(role=role, unit_id=office.unit_id))  # addressed to them
    container.registry.get(actor, registered.id)  # they see it
    before = state(container, registered.id)

    with pytest.raises(PermissionDenied):
        container.registry.update(actor, registered.id, edit(container, registered.id, subject="X"))

    assert state(container, registered.id) == before
    assert container.registry.may_update(actor, mail_row(container, registered.id)) is False


def test_an_auditor_never_corrects(
    container: Container, registered: Registered, build: Builders
) -> None:
    auditor = build.actor(build.user(role=Role.AUDITOR))

    with pytest.raises(PermissionDenied, match="auditeur"):
        container.registry.update(
            auditor, registered.id, edit(container, registered.id, subject="X")
        )

    assert mail_row(container, registered.id).subject == "Demande de permis"


def test_the_agent_who_registered_an_internal_mail_corrects_it(
    container: Container, office: Office, build: Builders
) -> None:
    author = build.actor(build.user(role=Role.AGENT))
    colleague = build.actor(build.user(role=Role.AGENT, unit_id=author.unit_id))
    note = register(
        container,
        author,
        office,
        direction="internal",
        correspondent_name="",
        unit_ids=(author.unit_id,),
    )

    container.registry.update(author, note.id, edit(container, note.id, subject="Note corrigée"))

    assert mail_row(container, note.id).subject == "Note corrigée"
    container.registry.get(colleague, note.id)  # addressed to their unit: they see it
    with pytest.raises(PermissionDenied):
        container.registry.update(colleague, note.id, edit(container, note.id, subject="Non"))


def test_a_mail_the_actor_cannot_see_is_not_found(
    container: Container, office: Office, build: Builders
) -> None:
    secret = register(container, SYSTEM, office, confidential=True)
    registrar = build.actor(build.user(role=Role.REGISTRAR))
    stranger = build.actor(build.user(role=Role.AGENT))

    for actor in (registrar, stranger):
        with pytest.raises(NotFound):
            container.registry.update(actor, secret.id, edit(container, secret.id, subject="X"))
    with pytest.raises(NotFound):
        container.registry.update(registrar, 999_999, MailEdit(subject="X"))


# --- audit and re-indexing ----------------------------------------------------------------------


def test_a_correction_is_audited_with_the_changed_fields_before_and_after(
    container: Container,
    office: Office,
    registered: Registered,
    today: dt.date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enqueued: list[tuple[str, object]] = []
    monkeypatch.setattr(
        container.jobs, "enqueue", lambda name, *args, **_: enqueued.append((name, args))
    )
    before = mail_row(container, registered.id)
    received = today - dt.timedelta(days=21)

    container.registry.update(
        office.registrar,
        registered.id,
        edit(
            container,
            registered.id,
            subject="Objet <corrigé>",
            mail_date=received,
            priority="very_urgent",
        ),
    )

    [event] = updates(container, registered.id)
    assert event.actor_id == office.registrar.user_id
    assert event.details == {
        "subject": ["Demande de permis", "Objet <corrigé>"],
        "mail_date": [before.mail_date.isoformat(), received.isoformat()],
        "priority": ["normal", "very_urgent"],
    }
    after = mail_row(container, registered.id)
    assert after.updated_at > before.updated_at
    assert (INDEX_MAIL, (registered.id,)) in enqueued


def test_a_correction_that_changes_nothing_writes_nothing(
    container: Container, office: Office, registered: Registered
) -> None:
    before = mail_row(container, registered.id)

    changes = container.registry.update(
        office.registrar, registered.id, current(container, registered.id)
    )

    assert changes == {}
    assert updates(container, registered.id) == []
    assert mail_row(container, registered.id).updated_at == before.updated_at


def test_the_history_shows_the_correction(
    container: Container, office: Office, registered: Registered
) -> None:
    container.registry.update(
        office.registrar, registered.id, edit(container, registered.id, subject="Nouvel objet")
    )

    timeline = container.registry.get(office.registrar, registered.id).timeline
    assert [e.action for e in timeline][-1] == AuditAction.MAIL_UPDATED.value
    assert timeline[-1].details == {"subject": ["Demande de permis", "Nouvel objet"]}


# --- refusals change nothing --------------------------------------------------------------------

REFUSALS: dict[str, tuple[dict[str, Any], str, str]] = {
    "empty_subject": ({"subject": "   "}, "L'objet du courrier est obligatoire.", "subject"),
    "long_subject": ({"subject": "x" * 501}, "L'objet dépasse 500 caractères.", "subject"),
    "unknown_priority": ({"priority": "vital"}, "Priorité inconnue.", "priority"),
    "unknown_channel": ({"channel": "pigeon"}, "Canal de réception inconnu.", "channel"),
    "long_reference": (
        {"sender_reference": "r" * 101},
        "La référence dépasse 100 caractères.",
        "sender_reference",
    ),
    "no_unit_for_incoming": (
        {"unit_ids": ()},
        "Choisissez au moins une entité destinataire.",
        "unit_ids",
    ),
    "no_correspondent": (
        {"correspondent_id": None, "correspondent_name": " "},
        "Indiquez le correspondant.",
        "correspondent",
    ),
    "unknown_correspondent": (
        {"correspondent_id": 999_999},
        "Ce correspondant n'existe pas.",
        "correspondent_id",
    ),
    "unknown_unit": (
        {"unit_ids": (999_999,)},
        "Une des entités destinataires n'existe pas.",
        "unit_ids",
    ),
    "unknown_person": (
        {"person_ids": (999_999,)},
        "Une des personnes désignées n'existe pas.",
        "person_ids",
    ),
    "unknown_type": (
        {"mail_type_id": 999_999},
        "Ce type de courrier n'existe pas.",
        "mail_type_id",
    ),
    "mail_date_in_the_future": (
        {"mail_date": "tomorrow"},
        "La date de réception ou d'envoi est dans le futur.",
        "mail_date",
    ),
    "letter_after_mail": (
        {"letter_date": "tomorrow"},
        "La date de la lettre est postérieure à sa date de réception ou d'envoi.",
        "letter_date",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_correction_says_why_in_french_and_changes_nothing(
    container: Container, office: Office, registered: Registered, today: dt.date, case: str
) -> None:
    fields, message, field = REFUSALS[case]
    fields = {
        k: (today + dt.timedelta(days=1) if v == "tomorrow" else v) for k, v in fields.items()
    }
    before = state(container, registered.id)
    with container.reader() as uow:
        correspondents = uow.session.execute(select(Correspondent.id)).scalars().all()
    # A valid change next to the bad one, and a new correspondent: none of it is kept.
    data = edit(container, registered.id, subject="Objet modifié", correspondent_name="Neuf")
    data = dataclasses.replace(data, **{"correspondent_id": None, **fields})

    with pytest.raises(ValidationError) as refused:
        container.registry.update(office.registrar, registered.id, data)

    assert (refused.value.message, refused.value.field) == (message, field)
    assert state(container, registered.id) == before
    assert updates(container, registered.id) == []
    with container.reader() as uow:
        assert uow.session.execute(select(Correspondent.id)).scalars().all() == correspondents


def test_a_correction_failing_late_leaves_no_new_correspondent(
    container: Container, office: Office, registered: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ged.services import mail as mail_module

    def failing(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(mail_module, "_replace_links", failing)
    before = state(container, registered.id)

    with pytest.raises(RuntimeError):
        container.registry.update(
            office.registrar,
            registered.id,
            edit(container, registered.id, correspondent_id=None, correspondent_name="Nouveau"),
        )

    assert state(container, registered.id) == before
    with container.reader() as uow:
        names = uow.session.execute(select(Correspondent.name)).scalars().all()
        assert "Nouveau" not in names
