"""Deploying circuits: validation, lane bindings, versions, `ged init` and `ged circuit`."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, ChronoCounter, CircuitDefinition, Task
from ged.domain.errors import PermissionDenied, ValidationError
from ged.domain.model import AuditAction
from ged.services.circuits import Binding, BindingKind
from ged.services.documents import DocumentData, IncomingFile
from ged.services.mail import MailInput
from ged.services.tasks import TaskState
from tests.builders import SYSTEM
from tests.integration.circuits.conftest import Office, count, footprint
from tests.integration.conftest import GedCommand
from workflows.engine import bundled_definition

# A review by the SAU manager that the deadline takes away (interrupting timer).
LATE_REVIEW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ged="urn:ged:bpmn:1"
    id="late_review_definitions" targetNamespace="urn:test">
  <bpmn:process id="late_review" name="{name}" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_reviewer" name="reviewer"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="submitted"/>
    <bpmn:sequenceFlow id="f1" sourceRef="submitted" targetRef="review"/>
    <bpmn:userTask id="review" name="Relire">
      <bpmn:extensionElements><ged:outcomes><ged:outcome name="approve"/></ged:outcomes></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="approved"/>
    <bpmn:endEvent id="approved"/>
    <bpmn:boundaryEvent id="too_late" attachedToRef="review" cancelActivity="true">
      <bpmn:timerEventDefinition id="too_late_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">review_deadline</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="too_late" targetRef="expired"/>
    <bpmn:endEvent id="expired"/>
  </bpmn:process>
</bpmn:definitions>
"""


def late_review(name: str = "Relecture") -> bytes:
    return LATE_REVIEW.format(name=name).encode()


def chef_reviews() -> dict[str, Binding]:
    return {"reviewer": Binding(BindingKind.UNIT_MANAGER, "SAU")}


def a_document(office: Office) -> int:
    return office.container.documents.create(
        office.agent,
        DocumentData(title="Plan"),
        IncomingFile(io.BytesIO(b"%PDF-1.4 plan"), "plan.pdf", "application/pdf"),
    )


def test_a_deployed_circuit_runs_with_its_lanes_bound(office: Office) -> None:
    deployment = office.container.circuits.deploy(office.admin, late_review(), chef_reviews())

    assert (deployment.process_id, deployment.version, deployment.created) == (
        "late_review",
        1,
        True,
    )
    office.container.tasks.start_for_document(
        office.agent, a_document(office), {"review_deadline": "P2D"}, process_id="late_review"
    )
    review = office.task(office.chef, "review")
    assert review.assignee_id == office.chef.user_id
    with office.container.reader() as uow:
        event = uow.session.execute(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.CIRCUIT_DEPLOYED,
                AuditEvent.object_id == str(deployment.id),
            )
        ).scalar_one()
    assert event.details["bindings"] == {"reviewer": "unit_manager:SAU"}


def test_a_task_the_circuit_takes_away_is_cancelled_in_the_task_table(office: Office) -> None:
    office.container.circuits.deploy(office.admin, late_review(), chef_reviews())
    tasks = office.container.tasks
    tasks.start_for_document(
        office.agent, a_document(office), {"review_deadline": "PT1H"}, process_id="late_review"
    )
    review = office.task(office.chef, "review")

    assert tasks.wake_due(tasks.now() + dt.timedelta(hours=2)) == 1

    with office.container.reader() as uow:
        row = uow.session.get_one(Task, review.id)
        assert row.state == TaskState.CANCELLED
        assert row.escalated_at is None
        fired = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.CIRCUIT_TIMER_FIRED)
        ).scalar_one()
        assert fired.details["cancelled"] == [review.id]
    assert tasks.my_tasks(office.chef).total == 0


def test_running_instances_keep_their_version_and_new_ones_take_the_latest(
    office: Office,
) -> None:
    circuits = office.container.circuits
    tasks = office.container.tasks
    circuits.deploy(office.admin, late_review("Relecture v1"), chef_reviews())
    first = tasks.start_for_document(
        office.agent, a_document(office), {"review_deadline": "P9D"}, process_id="late_review"
    )

    second_version = circuits.deploy(office.admin, late_review("Relecture v2"))

    assert second_version.version == 2  # the binding came from version 1
    second = tasks.start_for_document(
        office.agent, a_document(office), {"review_deadline": "P9D"}, process_id="late_review"
    )
    versions = {
        c.version: c.active for c in circuits.list(office.admin) if c.process_id == "late_review"
    }
    assert versions == {1: False, 2: True}
    for instance in (first, second):
        with office.container.reader() as uow:
            task_id = uow.session.execute(
                select(Task.id).where(Task.instance_id == instance)
            ).scalar_one()
        tasks.complete(office.chef, task_id, "approve")  # the old version still runs
    assert count(office.container, Task, Task.state == "done") == 2


def test_deploying_the_same_file_and_bindings_again_changes_nothing(office: Office) -> None:
    circuits = office.container.circuits
    circuits.deploy(office.admin, late_review(), chef_reviews())

    again = circuits.deploy(office.admin, late_review(), chef_reviews())

    assert (again.version, again.created) == (1, False)
    assert (
        count(office.container, CircuitDefinition, CircuitDefinition.process_id == "late_review")
        == 1
    )


@pytest.mark.parametrize(
    ("bpmn", "bindings", "message"),
    [
        (late_review(), {}, "Couloir\\(s\\) sans affectation : reviewer"),
        (late_review(), {"nobody": Binding(BindingKind.INITIATOR)}, "pas de couloir « nobody »"),
        (
            late_review(),
            {"reviewer": Binding(BindingKind.UNIT, "NOPE")},
            "l'entité « NOPE » n'existe pas",
        ),
        (late_review(), {"reviewer": Binding(BindingKind.ROLE, "boss")}, "le rôle « boss »"),
        (late_review(), {"reviewer": Binding(BindingKind.DATA_USER, "")}, "attend une variable"),
        (
            late_review(),
            {"reviewer": Binding(BindingKind.INITIATOR, "x")},
            "ne prend pas de valeur",
        ),
        (b"<bpmn:definitions", {}, "n'est pas un XML bien formé"),
        (b"", {}, "Le fichier est vide"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<x>&b;</x>",
            {},
            "DOCTYPE",
        ),
        (b"<html><body>not bpmn</body></html>", {}, "n'est pas un diagramme BPMN 2.0"),
        (
            late_review()
            .replace(b'<bpmn:startEvent id="submitted"/>', b'<bpmn:startEvent id="Start"/>')
            .replace(b'sourceRef="submitted"', b'sourceRef="Start"'),
            {},
            "réservé par le moteur",
        ),
    ],
)
def test_a_bad_circuit_or_binding_is_refused_in_french_and_nothing_is_stored(
    office: Office, bpmn: bytes, bindings: dict[str, Binding], message: str
) -> None:
    before = count(office.container, CircuitDefinition)
    events = footprint(office.container).audit_events

    with pytest.raises(ValidationError, match=message):
        office.container.circuits.deploy(office.admin, bpmn, bindings)

    assert count(office.container, CircuitDefinition) == before
    assert footprint(office.container).audit_events == events


def test_only_admins_deploy_circuits(office: Office) -> None:
    with pytest.raises(PermissionDenied):
        office.container.circuits.deploy(office.chef, late_review(), chef_reviews())


def test_a_mail_type_whose_circuit_is_not_deployed_refuses_registration(office: Office) -> None:
    container = office.container
    type_id = container.registry.create_mail_type(office.admin, "NEW", "Nouveau", 5, "late_review")
    with container.reader() as uow:
        numbers = uow.session.execute(select(ChronoCounter.last_value)).scalars().all()

    with pytest.raises(ValidationError, match="« late_review » de ce type de courrier"):
        container.registry.register(
            office.clerk,
            MailInput(
                "incoming",
                "Objet",
                correspondent_name="X",
                mail_type_id=type_id,
                unit_ids=(office.sau,),
            ),
        )

    with container.reader() as uow:
        assert uow.session.execute(select(ChronoCounter.last_value)).scalars().all() == numbers


# -- `ged init` and `ged circuit` ------------------------------------------------------------------


def test_init_deploys_the_bundled_circuits_once_in_its_single_event(ged: GedCommand) -> None:
    ged.ok("init")
    ged.ok("init")

    container = ged.container()
    summaries = container.circuits.list(SYSTEM)
    assert sorted((c.process_id, c.version) for c in summaries) == [
        ("document_approval", 1),
        ("incoming_mail", 1),
        ("outgoing_mail", 1),
    ]
    incoming = next(c for c in summaries if c.process_id == "incoming_mail")
    assert incoming.bindings == {
        "director": "top_unit_manager",
        "addressed_unit": "addressed_unit",
        "consulted_unit": "data_unit:consulted_unit",
        "addressed_unit_manager": "addressed_unit_manager",
    }
    with container.reader() as uow:
        [event] = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.INSTANCE_INITIALISED)
        ).scalars()
        assert event.details == {
            "circuits": ["incoming_mail", "outgoing_mail", "document_approval"]
        }


def test_ged_circuit_deploy_binds_lanes_and_lists_versions(ged: GedCommand, tmp_path: Path) -> None:
    ged.ok("init")
    ged.ok("demo")
    path = tmp_path / "incoming_mail.bpmn"
    path.write_bytes(bundled_definition("incoming_mail"))

    result = ged.ok("circuit", "deploy", str(path), "--bind", "director=unit_manager:DG")

    assert "incoming_mail version 2 déployé" in result.output
    listing = ged.ok("circuit", "list").output
    assert "* incoming_mail v2" in listing
    assert "director = unit_manager:DG" in listing
    assert "  incoming_mail v1" in listing
    unchanged = ged.ok("circuit", "deploy", str(path))
    assert "rien à faire" in unchanged.output


def test_ged_circuit_deploy_explains_what_is_wrong(ged: GedCommand, tmp_path: Path) -> None:
    ged.ok("init")
    path = tmp_path / "late_review.bpmn"
    path.write_bytes(late_review())

    unbound = ged("circuit", "deploy", str(path))
    bad_kind = ged("circuit", "deploy", str(path), "--bind", "reviewer=boss")
    bad_syntax = ged("circuit", "deploy", str(path), "--bind", "reviewer")

    assert unbound.exit_code != 0
    assert "sans affectation : reviewer" in unbound.output
    assert "Affectation inconnue « boss »" in bad_kind.output
    assert "COULOIR=TYPE" in bad_syntax.output
    assert "Traceback" not in unbound.output + bad_kind.output + bad_syntax.output


def test_ged_circuit_holidays_and_sweep(ged: GedCommand) -> None:
    ged.ok("init")

    ged.ok("circuit", "holiday-add", "2027-04-02", "Fête locale")
    listed = ged.ok("circuit", "holidays", "--year", "2027").output
    removed = ged.ok("circuit", "holiday-remove", "2027-04-02")
    swept = ged.ok("circuit", "sweep", "--now", "2027-01-04T09:00:00+01:00")

    assert "2027-04-02  Fête locale" in listed
    assert "2027-01-01  Nouvel an" in listed
    assert "retiré" in removed.output
    assert "0 instance(s) réveillée(s)" in swept.output
    assert ged("circuit", "sweep", "--now", "2027-01-04").exit_code != 0
