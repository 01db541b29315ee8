"""Every path of the bundled document approval circuit, end to end."""

from __future__ import annotations

import pytest

from tests.unit.workflows.builders import Instance
from workflows.engine import CircuitEngine
from workflows.errors import InvalidTaskData


@pytest.fixture
def document(engine: CircuitEngine, document_approval: bytes) -> Instance:
    return Instance(engine, document_approval, {"document_id": 9, "version": 1})


def test_an_approved_document_ends_as_approved(document: Instance) -> None:
    assert document.task("review").lane == "reviewer"
    snapshot = document.complete("review", "approve")

    assert snapshot.end_events == ("approved",)
    assert snapshot.finished


def test_a_rejected_document_is_reworked_into_a_new_version_and_reviewed_again(
    document: Instance,
) -> None:
    document.complete("review", "reject", comment="Missing annex")
    assert document.task("rework").lane == "author"
    document.complete("rework", "resubmit", version=2)

    review = document.task("review")
    assert review.data["version"] == 2
    document.complete("review", "reject")
    document.complete("rework", "resubmit", version=3)
    snapshot = document.complete("review", "approve")

    assert snapshot.end_events == ("approved",)
    assert snapshot.data["version"] == 3


def test_the_author_can_withdraw_a_rejected_document(document: Instance) -> None:
    document.complete("review", "reject")
    snapshot = document.complete("rework", "withdraw")

    assert snapshot.end_events == ("withdrawn",)


def test_a_review_needs_an_outcome(document: Instance) -> None:
    with pytest.raises(InvalidTaskData, match="Choose an outcome for 'Relire le document'"):
        document.complete("review", comment="Looks fine")


def test_an_outcome_the_task_does_not_offer_is_refused(document: Instance) -> None:
    with pytest.raises(InvalidTaskData, match="not an outcome of 'Relire le document'"):
        document.complete("review", "publish")
