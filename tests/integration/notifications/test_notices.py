"""Notifications are stored as values (step, chrono, deadline), so each reader's page words them.

Rows written before, as finished French sentences, are read back into the same values when
they are one of ged's own sentences, and kept as written otherwise.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ged.services.notifications import MAX_TEXT, NotificationKind, TaskNotice
from tests.integration.circuits.conftest import Office
from tests.integration.notifications.conftest import add_raw, chrono_of, notifications_of

FRENCH_WORDS = ("Nouvelle tâche", "Rappel", "Délai dépassé", "réattribuée", "échéance")


def test_every_task_event_stores_its_values_and_no_sentence(office: Office) -> None:
    tasks = office.container.tasks
    mail_id = office.register("Plainte contre un élu", confidential=True)
    chrono = chrono_of(office, mail_id)
    process = office.dispatch(mail_id, days=2)
    assert process.due_at is not None
    tasks.send_reminders(process.due_at - dt.timedelta(hours=12))
    tasks.escalate_overdue(process.due_at + dt.timedelta(hours=1))
    tasks.reassign(office.chef, process.id, office.colleague.user_id or 0)

    stored = {
        (person.username, row.kind): row.text
        for person in (office.director, office.chef, office.colleague)
        for row in notifications_of(office.container, person.user_id)
    }
    notices = {key: TaskNotice.loads(text) for key, text in stored.items()}
    assert notices == {
        ("directeur", "new_task"): TaskNotice("Dispatcher le courrier", chrono),
        ("chef", "reminder"): TaskNotice("Traiter le courrier", chrono, process.due_at),
        ("chef", "escalation"): TaskNotice("Traiter le courrier", chrono, process.due_at),
        ("collegue", "reminder"): TaskNotice("Traiter le courrier", chrono, process.due_at),
        ("collegue", "assignment"): TaskNotice(
            "Traiter le courrier", chrono, process.due_at, by="Personne chef"
        ),
    }
    for text in stored.values():
        assert not any(word in text for word in FRENCH_WORDS), text
        assert "Plainte" not in text


def test_a_long_step_name_full_of_quotes_still_fits_the_column() -> None:
    due = dt.datetime(2026, 12, 8, 23, 0, tzinfo=dt.UTC)
    notice = TaskNotice('"\\' * 200, "A-2026-00042", due)

    stored = notice.dumps()

    assert len(stored) <= MAX_TEXT
    read = TaskNotice.loads(stored)
    assert read is not None
    assert read.task
    assert notice.task.startswith(read.task)
    assert (read.chrono, read.due_at) == ("A-2026-00042", due)


def test_a_managers_move_keeps_who_made_it_and_where_the_task_went() -> None:
    due = dt.datetime(2026, 12, 8, 23, 0, tzinfo=dt.UTC)
    to_pool = TaskNotice("Traiter", "A-2026-00042", due, by="Personne chef", unit_id=7, unit="SAU")
    to_person = TaskNotice("Traiter", None, None, by="Personne chef", to="Personne collegue")

    assert TaskNotice.loads(to_pool.dumps()) == to_pool
    assert TaskNotice.loads(to_person.dumps()) == to_person
    # A notice without them reads as before: older rows and other kinds are unchanged.
    assert "by" not in TaskNotice("Traiter", "A-2026-00042", due).dumps()


def test_long_names_full_of_quotes_give_way_until_the_notice_fits() -> None:
    notice = TaskNotice('"' * 300, "A-2026-00042", None, by='"' * 200, to='"' * 200, unit_id=3)

    stored = notice.dumps()

    assert len(stored) <= MAX_TEXT
    read = TaskNotice.loads(stored)
    assert read is not None
    assert (read.chrono, read.unit_id) == ("A-2026-00042", 3)
    assert read.task == ""
    assert read.by
    assert ('"' * 200).startswith(read.by)


@pytest.mark.parametrize(
    "stored",
    [
        '{"v": 1, "task": "Traiter", "by": 3}',
        '{"v": 1, "task": "Traiter", "unit": ["SAU"]}',
        '{"v": 1, "task": "Traiter", "unit_id": "7"}',
        '{"v": 1, "task": "Traiter", "unit_id": true}',
        "Nouvelle tâche : « Dispatcher le courrier ».",
        "{pas du JSON",
        '{"v": 2, "task": "Traiter"}',
        '{"v": 1, "task": 3}',
        '{"v": 1, "task": "Traiter", "due": "2026-12-08T10:00:00"}',
        '{"v": 1, "task": "Traiter", "due": "le 8 décembre"}',
        "[1, 2]",
    ],
)
def test_only_a_notice_of_the_known_shape_is_read_as_one(stored: str) -> None:
    assert TaskNotice.loads(stored) is None


def _zone(office: Office) -> ZoneInfo:
    return ZoneInfo(office.container.settings.timezone)


OLD_SENTENCES = [
    ("new_task", "Nouvelle tâche : « Dispatcher le courrier » — A-2026-00007.", None),
    ("new_task", "Nouvelle tâche : « Relire le document ».", None),
    (
        "assignment",
        "La tâche « Traiter le courrier » — A-2026-00007 vous a été réattribuée.",
        None,
    ),
    (
        "reminder",
        "Rappel : « Traiter le courrier » — A-2026-00007 arrive à échéance "
        "le 08/12/2026 (fin de journée).",
        (dt.datetime(2026, 12, 9), True),
    ),
    (
        "reminder",
        "Rappel : « Traiter le courrier » arrive à échéance le 08/12/2026 à 14:30.",
        (dt.datetime(2026, 12, 8, 14, 30), False),
    ),
    (
        "escalation",
        "Délai dépassé : « Traiter le courrier » — A-2026-00007 (échéance le 08/12/2026 "
        "(fin de journée)).",
        (dt.datetime(2026, 12, 9), True),
    ),
    ("escalation", "Délai dépassé : « Traiter le courrier » (échéance —).", None),
]


@pytest.mark.parametrize(("kind", "sentence", "due"), OLD_SENTENCES)
def test_an_old_french_sentence_is_read_back_into_its_values(
    office: Office, kind: str, sentence: str, due: tuple[dt.datetime, bool] | None
) -> None:
    add_raw(office.container, office.agent.user_id, kind, sentence)

    [row] = office.container.notifications.page(office.agent).rows

    assert row.kind == NotificationKind(kind)
    assert row.text == sentence
    assert row.notice is not None
    assert row.notice.task in {
        "Dispatcher le courrier",
        "Relire le document",
        "Traiter le courrier",
    }
    assert row.notice.chrono == ("A-2026-00007" if "A-2026" in sentence else None)
    if due is None:
        assert row.notice.due_at is None
    else:
        # In agency time; an end-of-day deadline is the midnight that ends its day.
        assert row.notice.due_at == due[0].replace(tzinfo=_zone(office))


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("new_task", "Bienvenue dans ged."),
        ("reminder", "Rappel : « Traiter le courrier » arrive à échéance le 31/02/2026 à 10:00."),
        ("escalation", "Délai dépassé : « Traiter le courrier » (échéance le 08/12/2026 à 25:00)."),
        ("pool", "Une tâche vous attend."),  # kinds born with notices have no old sentence
        ("withdrawn", "Tâche retirée."),
    ],
)
def test_any_other_old_text_is_kept_as_written(office: Office, kind: str, sentence: str) -> None:
    add_raw(office.container, office.agent.user_id, kind, sentence)

    [row] = office.container.notifications.page(office.agent).rows

    assert row.notice is None
    assert row.text == sentence
