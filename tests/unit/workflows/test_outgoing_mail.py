"""Every path of the bundled outgoing mail circuit, end to end."""

from __future__ import annotations

import pytest

from tests.unit.workflows.builders import Instance
from workflows.engine import CircuitEngine
from workflows.errors import InvalidTaskData

DRAFTED = {"approvers": ["head_of_service", "director"], "signatory": "secretary_general"}


@pytest.fixture
def mail(engine: CircuitEngine, outgoing_mail: bytes) -> Instance:
    return Instance(engine, outgoing_mail, {"author": "agent_7"})


def test_the_author_drafts_first(mail: Instance) -> None:
    task = mail.task("draft")
    assert task.lane == "author"
    assert task.outcomes[0].requires == ("approvers", "signatory")


def test_visas_go_up_the_hierarchy_one_at_a_time_then_signature_and_registration(
    mail: Instance,
) -> None:
    mail.complete("draft", "submit", **DRAFTED)
    visa = mail.task("approve_draft")
    assert (visa.lane, visa.instance_item) == ("approver", "head_of_service")
    mail.complete("approve_draft", "approve")
    assert mail.task("approve_draft").instance_item == "director"
    mail.complete("approve_draft", "approve")

    assert mail.task("sign").lane == "signatory"
    mail.complete("sign", "sign")
    assert mail.task("register").lane == "registry"
    snapshot = mail.complete("register", "register", chrono="D-2026-000017")

    assert snapshot.finished
    assert snapshot.end_events == ("sent",)
    assert snapshot.data["chrono"] == "D-2026-000017"


def test_a_return_stops_the_chain_and_the_visas_start_again_after_correction(
    mail: Instance,
) -> None:
    mail.complete("draft", "submit", **DRAFTED)
    mail.complete("approve_draft", "approve")
    mail.complete("approve_draft", "return", comment="Wrong addressee")

    assert mail.ready() == ["draft"]
    mail.complete("draft", "submit")
    assert mail.task("approve_draft").instance_item == "head_of_service"
    mail.complete("approve_draft", "approve")
    mail.complete("approve_draft", "approve")
    assert mail.ready() == ["sign"]


def test_a_return_by_the_first_approver_skips_the_others(mail: Instance) -> None:
    mail.complete("draft", "submit", **DRAFTED)
    mail.complete("approve_draft", "return")

    assert mail.ready() == ["draft"]


def test_a_draft_without_approvers_goes_straight_to_signature(mail: Instance) -> None:
    mail.complete("draft", "submit", approvers=[], signatory="director")
    assert mail.ready() == ["sign"]


def test_the_signatory_can_return_the_draft_for_correction(mail: Instance) -> None:
    mail.complete("draft", "submit", approvers=["director"], signatory="director")
    mail.complete("approve_draft", "approve")
    mail.complete("sign", "return")

    assert mail.ready() == ["draft"]
    mail.complete("draft", "submit")
    mail.complete("approve_draft", "approve")
    mail.complete("sign", "sign")
    assert mail.complete("register", "register", chrono="D-2026-000018").end_events == ("sent",)


def test_registration_needs_the_chrono(mail: Instance) -> None:
    mail.complete("draft", "submit", approvers=[], signatory="director")
    mail.complete("sign", "sign")
    with pytest.raises(InvalidTaskData, match="'chrono'"):
        mail.complete("register", "register")
