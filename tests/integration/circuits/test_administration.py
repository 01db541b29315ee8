"""What the administration pages read and change: circuit versions, previews, the calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, CircuitDefinition, Holiday
from ged.domain.errors import NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction
from ged.services.circuits import Binding, BindingKind
from tests.integration.circuits.conftest import Office, count, footprint
from tests.integration.circuits.test_deploy import a_document, chef_reviews, late_review
from workflows.engine import bundled_definition


def holiday_events(office: Office, action: AuditAction) -> list[AuditEvent]:
    with office.container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.id)
            ).scalars()
        )


# -- Circuits ----------------------------------------------------------------------------------


def test_overview_counts_running_instances_per_version_and_names_the_mail_types(
    office: Office,
) -> None:
    circuits = office.container.circuits
    office.register()
    office.register()
    circuits.deploy(office.admin, bundled_definition("incoming_mail").replace(b"Courrier", b"Pli"))
    office.register()

    overview = {c.process_id: c for c in circuits.overview(office.admin)}

    incoming = overview["incoming_mail"]
    assert [v.version for v in incoming.versions] == [2, 1]
    assert incoming.active is not None
    assert incoming.active.version == 2
    assert incoming.running == {incoming.versions[0].id: 1, incoming.versions[1].id: 2}
    assert [(t.code, t.name) for t in incoming.mail_types] == [("DEM", "Demande")]
    assert [t.code for t in overview["outgoing_mail"].mail_types] == ["REP"]
    assert overview["document_approval"].mail_types == ()
    assert incoming.versions[0].bindings["director"] == "top_unit_manager"


def test_finished_instances_are_not_counted_as_running(office: Office) -> None:
    circuits = office.container.circuits
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    office.container.tasks.complete(office.director, dispatch.id, "file")

    incoming = next(c for c in circuits.overview(office.admin) if c.process_id == "incoming_mail")

    assert incoming.running == {incoming.versions[0].id: 0}


def test_auditors_read_the_overview_and_others_are_refused(office: Office) -> None:
    circuits = office.container.circuits
    assert circuits.overview(office.auditor)
    for actor in (office.chef, office.agent, office.clerk):
        with pytest.raises(PermissionDenied):
            circuits.overview(actor)


def test_preview_lists_lanes_with_their_tasks_and_the_bindings_to_start_from(
    office: Office,
) -> None:
    preview = office.container.circuits.preview(office.admin, bundled_definition("incoming_mail"))

    lanes = {lane.name: lane for lane in preview.lanes}
    assert preview.process_id == "incoming_mail"
    assert preview.latest_version == 1
    assert preview.same_file
    assert lanes["director"].tasks == ("Dispatcher le courrier",)
    assert lanes["director"].suggested == "top_unit_manager"
    assert lanes["consulted_unit"].suggested == "data_unit:consulted_unit"
    assert lanes["consulted_unit"].variables == ("consulted_unit",)


def test_preview_of_a_new_circuit_suggests_the_convention_or_nothing(office: Office) -> None:
    circuits = office.container.circuits
    conventional = circuits.preview(office.admin, late_review())
    unknown = circuits.preview(
        office.admin, late_review().replace(b'name="reviewer"', b'name="legal desk"')
    )

    assert conventional.latest_version is None
    assert not conventional.same_file
    assert [(lane.name, lane.suggested) for lane in conventional.lanes] == [
        ("reviewer", "data_user:reviewer")
    ]
    assert conventional.lanes[0].tasks == ("Relire",)
    assert [(lane.name, lane.suggested, lane.variables) for lane in unknown.lanes] == [
        ("legal desk", "", ())
    ]


def test_preview_starts_from_the_previous_version_bindings(office: Office) -> None:
    circuits = office.container.circuits
    circuits.deploy(office.admin, late_review(), chef_reviews())

    preview = circuits.preview(office.admin, late_review("Relecture v2"))

    assert preview.latest_version == 1
    assert not preview.same_file
    assert preview.lanes[0].suggested == "unit_manager:SAU"


def test_preview_is_for_admins_and_refuses_a_bad_file(office: Office) -> None:
    circuits = office.container.circuits
    with pytest.raises(PermissionDenied):
        circuits.preview(office.auditor, late_review())
    with pytest.raises(ValidationError, match="XML bien formé"):
        circuits.preview(office.admin, b"<bpmn:definitions")


def test_a_form_that_leaves_a_lane_empty_does_not_inherit_its_old_binding(
    office: Office,
) -> None:
    circuits = office.container.circuits
    circuits.deploy(office.admin, late_review(), chef_reviews())
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="sans affectation : reviewer"):
        circuits.deploy(office.admin, late_review("v2"), {}, keep_previous=False)

    assert count(office.container, CircuitDefinition) == 4
    assert footprint(office.container) == before


def test_instance_definition_is_served_to_who_sees_the_mail_only(office: Office) -> None:
    circuits = office.container.circuits
    mail_id = office.register()
    instance_id = office.container.tasks.progress(office.agent, mail_id)[0].instance_id

    for actor in (office.agent, office.director, office.auditor, office.clerk):
        definition = circuits.instance_definition(actor, mail_id, instance_id)
        assert definition.process_id == "incoming_mail"
        assert definition.bpmn == bundled_definition("incoming_mail")
    with pytest.raises(NotFound):
        circuits.instance_definition(office.stranger, mail_id, instance_id)
    other_mail = office.register(unit=office.other)
    with pytest.raises(NotFound):  # an instance is reached through its own mail only
        circuits.instance_definition(office.stranger, other_mail, instance_id)


def test_an_instance_of_a_document_is_not_served_through_a_mail(office: Office) -> None:
    circuits = office.container.circuits
    circuits.deploy(office.admin, late_review(), {"reviewer": Binding(BindingKind.INITIATOR)})
    instance_id = office.container.tasks.start_for_document(
        office.agent, a_document(office), {"review_deadline": "P2D"}, process_id="late_review"
    )
    mail_id = office.register()

    with pytest.raises(NotFound):
        circuits.instance_definition(office.admin, mail_id, instance_id)


# -- The calendar ------------------------------------------------------------------------------


def test_a_year_lists_its_holidays_and_every_year_that_has_some(office: Office) -> None:
    calendar = office.container.calendar
    calendar.add(office.admin, dt.date(2031, 1, 1), "Nouvel an")
    calendar.add(office.admin, dt.date(2028, 8, 14), "Allégeance Oued Eddahab")
    calendar.add(office.admin, dt.date(2028, 1, 1), "Nouvel an")

    year = calendar.year(office.auditor, 2028)

    assert [(h.day, h.name) for h in year.holidays] == [
        (dt.date(2028, 1, 1), "Nouvel an"),
        (dt.date(2028, 8, 14), "Allégeance Oued Eddahab"),
    ]
    assert year.years[0] <= 2028
    assert year.years[-1] == 2031
    assert year.weekend == (5, 6)
    assert year.holidays[0].on_weekend  # 1 January 2028 is a Saturday
    assert not year.holidays[1].on_weekend


def test_updating_a_holiday_moves_it_and_is_audited(office: Office) -> None:
    calendar = office.container.calendar
    calendar.add(office.admin, dt.date(2030, 4, 2), "Aïd al-Fitr")

    changed = calendar.update(
        office.admin, dt.date(2030, 4, 2), dt.date(2030, 4, 3), "  Aïd   al-Fitr (1er jour) "
    )

    assert changed
    assert calendar.holiday(office.admin, dt.date(2030, 4, 3)).name == "Aïd al-Fitr (1er jour)"
    with pytest.raises(NotFound):
        calendar.holiday(office.admin, dt.date(2030, 4, 2))
    [event] = holiday_events(office, AuditAction.HOLIDAY_UPDATED)
    assert event.object_id == "2030-04-02"
    assert event.details == {
        "day": ["2030-04-02", "2030-04-03"],
        "name": ["Aïd al-Fitr", "Aïd al-Fitr (1er jour)"],
    }


def test_an_unchanged_holiday_writes_nothing(office: Office) -> None:
    calendar = office.container.calendar
    calendar.add(office.admin, dt.date(2030, 4, 2), "Aïd al-Fitr")
    before = footprint(office.container)

    assert not calendar.update(
        office.admin, dt.date(2030, 4, 2), dt.date(2030, 4, 2), "Aïd al-Fitr"
    )

    assert footprint(office.container) == before


@pytest.mark.parametrize(
    ("new_day", "name", "message"),
    [
        (dt.date(2030, 5, 1), "Fête", "déjà un jour férié"),
        (dt.date(2030, 4, 3), "   ", "Nom du jour férié obligatoire"),
        (dt.date(2030, 4, 3), "x" * 101, "100 caractères"),
        (dt.date(230, 4, 3), "Fête", "Date hors du calendrier"),
    ],
)
def test_a_bad_holiday_change_is_refused_and_nothing_changes(
    office: Office, new_day: dt.date, name: str, message: str
) -> None:
    calendar = office.container.calendar
    calendar.add(office.admin, dt.date(2030, 4, 2), "Aïd al-Fitr")
    calendar.add(office.admin, dt.date(2030, 5, 1), "Fête du travail")
    before = footprint(office.container)

    with pytest.raises(ValidationError, match=message):
        calendar.update(office.admin, dt.date(2030, 4, 2), new_day, name)

    assert footprint(office.container) == before
    assert calendar.holiday(office.admin, dt.date(2030, 4, 2)).name == "Aïd al-Fitr"


def test_adding_a_date_out_of_the_calendar_is_refused(office: Office) -> None:
    with pytest.raises(ValidationError, match="Date hors du calendrier"):
        office.container.calendar.add(office.admin, dt.date(2201, 1, 1), "Plus tard")
    assert count(office.container, Holiday, Holiday.day == dt.date(2201, 1, 1)) == 0


def test_only_admins_change_holidays_and_auditors_read_them(office: Office) -> None:
    calendar = office.container.calendar
    calendar.add(office.admin, dt.date(2030, 4, 2), "Aïd al-Fitr")
    with pytest.raises(PermissionDenied):
        calendar.update(office.auditor, dt.date(2030, 4, 2), dt.date(2030, 4, 3), "Aïd")
    for actor in (office.chef, office.agent, office.clerk):
        with pytest.raises(PermissionDenied):
            calendar.year(actor, 2030)
        with pytest.raises(PermissionDenied):
            calendar.holiday(actor, dt.date(2030, 4, 2))
    assert calendar.holiday(office.auditor, dt.date(2030, 4, 2)).name == "Aïd al-Fitr"
    with pytest.raises(NotFound):
        calendar.year(office.admin, 99999)
