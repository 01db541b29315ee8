"""Every path of the bundled incoming mail circuit, end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.workflows.builders import NOW, Instance
from workflows.engine import CircuitEngine
from workflows.errors import ExpressionError, InvalidTaskData

DISPATCH = {"addressed_unit": "finance", "processing_deadline": "P10D"}


@pytest.fixture
def mail(engine: CircuitEngine, incoming_mail: bytes) -> Instance:
    return Instance(engine, incoming_mail, {"mail_id": 42})


def dispatched(mail: Instance) -> Instance:
    mail.complete("dispatch", "dispatch", **DISPATCH)
    return mail


def test_registered_mail_waits_for_the_director(mail: Instance) -> None:
    task = mail.task("dispatch")

    assert task.lane == "director"
    assert [o.name for o in task.outcomes] == ["dispatch", "file"]
    assert task.data == {"mail_id": 42}
    assert mail.snapshot.next_wakeup is None
    assert not mail.snapshot.finished


def test_filing_without_processing_ends_as_filed(mail: Instance) -> None:
    snapshot = mail.complete("dispatch", "file")

    assert snapshot.finished
    assert snapshot.end_events == ("filed",)
    assert snapshot.ready_tasks == ()


def test_dispatch_gives_the_unit_a_task_due_at_the_deadline(mail: Instance) -> None:
    dispatched(mail)
    task = mail.task("process")

    assert task.lane == "addressed_unit"
    assert task.data["addressed_unit"] == "finance"
    assert task.due_at == NOW + timedelta(days=10)
    assert mail.snapshot.next_wakeup == NOW + timedelta(days=10)


def test_dispatch_without_a_unit_is_refused(mail: Instance) -> None:
    with pytest.raises(InvalidTaskData, match="'addressed_unit'"):
        mail.complete("dispatch", "dispatch", processing_deadline="P10D")


def test_processing_with_an_answer_then_visa_ends_as_answered(mail: Instance) -> None:
    dispatched(mail)
    mail.complete("process", "answer")
    assert mail.task("visa").lane == "addressed_unit_manager"
    snapshot = mail.complete("visa", "approve")

    assert snapshot.finished
    assert snapshot.end_events == ("answered",)
    assert snapshot.data["process_outcome"] == "answer"


def test_processing_without_an_answer_then_visa_ends_as_closed(mail: Instance) -> None:
    dispatched(mail)
    mail.complete("process", "close")
    snapshot = mail.complete("visa", "approve")

    assert snapshot.end_events == ("closed",)


def test_visa_can_return_the_mail_for_correction_until_it_is_right(mail: Instance) -> None:
    dispatched(mail)
    first = mail.task("process").id
    mail.complete("process", "answer")
    mail.complete("visa", "return", comment="Cite the decree")

    again = mail.task("process")
    assert again.id != first
    assert again.due_at is not None
    mail.complete("process", "close")
    mail.complete("visa", "return")
    mail.complete("process", "answer")
    snapshot = mail.complete("visa", "approve")

    assert snapshot.end_events == ("answered",)


def test_opinions_are_asked_of_every_consulted_unit_in_parallel(mail: Instance) -> None:
    dispatched(mail)
    mail.complete("process", "consult", consulted_units=["legal", "audit"])

    opinions = mail.snapshot.ready_tasks
    assert [(t.bpmn_id, t.lane, t.instance_item) for t in opinions] == [
        ("give_opinion", "consulted_unit", "legal"),
        ("give_opinion", "consulted_unit", "audit"),
    ]
    mail.complete("give_opinion", "opinion", item="audit", comment="No objection")
    assert mail.ready() == ["give_opinion"]
    mail.complete("give_opinion", "opinion", item="legal")

    assert mail.ready() == ["process"]
    assert "consulted_unit" not in mail.task("process").data


def test_opinions_can_be_asked_again_after_a_return(mail: Instance) -> None:
    dispatched(mail)
    mail.complete("process", "consult", consulted_units=["legal"])
    mail.complete("give_opinion", "opinion")
    mail.complete("process", "answer")
    mail.complete("visa", "return")
    mail.complete("process", "consult", consulted_units=["audit", "hr"])

    assert [t.instance_item for t in mail.snapshot.ready_tasks] == ["audit", "hr"]
    mail.complete("give_opinion", "opinion", item="hr")
    mail.complete("give_opinion", "opinion", item="audit")
    mail.complete("process", "close")
    assert mail.complete("visa", "approve").end_events == ("closed",)


def test_consulting_needs_the_units_to_consult(mail: Instance) -> None:
    dispatched(mail)
    with pytest.raises(InvalidTaskData, match="'consulted_units'"):
        mail.complete("process", "consult")


def test_the_deadline_does_not_fire_before_it_is_due(mail: Instance) -> None:
    dispatched(mail)
    snapshot = mail.wake(NOW + timedelta(days=10) - timedelta(seconds=1))

    assert snapshot.events == ()
    assert snapshot.next_wakeup == NOW + timedelta(days=10)
    assert mail.ready() == ["process"]


def test_the_deadline_escalates_once_when_woken_after_it(mail: Instance) -> None:
    dispatched(mail)
    task = mail.task("process")
    snapshot = mail.wake(NOW + timedelta(days=11))

    assert len(snapshot.events) == 1
    event = snapshot.events[0]
    assert (event.kind, event.name, event.code) == (
        "escalation",
        "processing_overdue",
        "processing_overdue",
    )
    assert (event.task_bpmn_id, event.task_id) == ("process", task.id)
    assert snapshot.next_wakeup is None
    assert mail.task("process").id == task.id
    assert mail.task("process").due_at == NOW + timedelta(days=10)
    assert mail.wake(NOW + timedelta(days=12)).events == ()


def test_an_overdue_mail_can_still_be_processed_to_the_end(mail: Instance) -> None:
    dispatched(mail)
    mail.wake(NOW + timedelta(days=11))
    mail.complete("process", "answer")
    snapshot = mail.complete("visa", "approve")

    assert snapshot.finished
    assert set(snapshot.end_events) == {"answered", "processing_overdue"}


def test_completing_processing_in_time_cancels_the_deadline(mail: Instance) -> None:
    dispatched(mail)
    snapshot = mail.complete("process", "answer")

    assert snapshot.next_wakeup is None
    assert mail.wake(NOW + timedelta(days=30)).events == ()


def test_a_fixed_deadline_date_survives_a_return_for_correction(mail: Instance) -> None:
    deadline = "2026-12-04T17:00:00+01:00"
    mail.complete("dispatch", "dispatch", addressed_unit="finance", processing_deadline=deadline)
    mail.complete("process", "answer")
    mail.complete("visa", "return", now=NOW + timedelta(days=3))

    assert mail.task("process").due_at == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def test_a_deadline_already_past_fires_in_the_same_step(mail: Instance) -> None:
    snapshot = mail.complete(
        "dispatch", "dispatch", addressed_unit="finance", processing_deadline="2026-11-01T00:00:00Z"
    )

    assert [event.name for event in snapshot.events] == ["processing_overdue"]
    assert mail.ready() == ["process"]


def test_a_deadline_that_is_not_a_duration_is_refused_and_nothing_changes(mail: Instance) -> None:
    before = mail.state
    with pytest.raises(ExpressionError, match="ISO-8601"):
        mail.complete("dispatch", "dispatch", addressed_unit="finance", processing_deadline="soon")

    assert mail.state == before
    assert mail.ready() == ["dispatch"]
