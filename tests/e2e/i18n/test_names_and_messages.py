"""On an Arabic page: units and mail types by their Arabic names, the services' errors and the
task names ged builds in Arabic; a French page is unchanged."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from ged.adapters.orm import MailType, Task
from ged.bootstrap import Container
from ged.domain.errors import Conflict, Label, NotFound, ValidationError
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.conftest import AuthActions
from tests.e2e.circuits.test_admin_circuits import upload
from tests.e2e.conftest import form_token, text
from tests.e2e.i18n.conftest import catalogue, html_tag
from tests.e2e.tasks.conftest import make_overdue
from tests.integration.circuits.conftest import PASSWORD, Office, make_office
from web.i18n import coded_unit_label, local_name, mail_type_name, translate, unit_label

SAU_AR = "مصلحة الرخص"
DEM_AR = "طلب رخصة"
ESCALATION_HELP = "Une tâche a dépassé son échéance : relancez la personne ou réattribuez-la."


@pytest.fixture
def office(container: Container) -> Office:
    """The circuits' office; its processing unit and its request type have Arabic names, and
    the manager, the registrar and the administrator read Arabic."""
    office = make_office(container)
    container.admin.update_unit(
        SYSTEM,
        office.sau,
        UnitData(
            "SAU",
            "Autorisations",
            name_ar=SAU_AR,
            parent_id=office.dg,
            manager_id=office.chef.user_id,
        ),
    )
    with container.writer() as uow:
        uow.session.execute(
            update(MailType).where(MailType.id == office.incoming_type).values(name_ar=DEM_AR)
        )
        uow.commit()
    for actor in (office.chef, office.clerk, office.admin):
        container.accounts.set_locale(actor, "ar")
    return office


def login(app: Flask, username: str) -> FlaskClient:
    auth = AuthActions(app.test_client())
    assert auth.login(username, PASSWORD).status_code in (302, 303)
    return auth.client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return html.unescape(text(response))


# --- names of units and mail types ----------------------------------------------------------


def test_the_mail_page_names_the_unit_and_the_type_in_arabic(office: Office, app: Flask) -> None:
    mail_id = office.register()
    shown = page(login(app, "chef"), f"/mail/{mail_id}")
    assert 'dir="rtl"' in html_tag(shown)
    assert f'SAU · <span dir="auto">{SAU_AR}</span>' in shown
    assert DEM_AR in shown
    assert "Autorisations" not in shown
    assert ">Demande <" not in shown


def test_a_french_reader_keeps_the_french_names(office: Office, app: Flask) -> None:
    mail_id = office.register()
    shown = page(login(app, "agent"), f"/mail/{mail_id}")
    assert 'SAU · <span dir="auto">Autorisations</span>' in shown
    assert SAU_AR not in shown
    assert DEM_AR not in shown


def test_the_mail_list_and_the_forms_choices_use_arabic_names_or_fall_back(
    office: Office, app: Flask
) -> None:
    office.register()
    clerk = login(app, "greffier")
    listed = page(clerk, "/mail/")
    assert f"<td>{DEM_AR}</td>" in listed
    assert f">SAU · {SAU_AR}</option>" in listed  # the unit filter
    form = page(clerk, "/mail/new")
    assert f"SAU · {SAU_AR}" in form
    assert "SJ · Juridique" in form  # no Arabic name: the French one
    assert f">{DEM_AR} · " in form


def test_the_home_page_names_the_person_s_unit_in_arabic(office: Office, app: Flask) -> None:
    assert SAU_AR in page(login(app, "chef"), "/")


def test_the_dashboard_names_units_in_arabic(
    office: Office, app: Flask, container: Container
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    make_overdue(container, process.id)
    admin = login(app, "admin")
    board = page(admin, "/dashboard/")
    assert f"SAU · {SAU_AR}" in board
    assert "الوكالة بأكملها" in board  # "Toute l'agence"
    listed = page(admin, f"/dashboard/tasks?list=overdue&unit={office.sau}")
    assert f"<td>SAU · {SAU_AR}</td>" in listed


# --- task names ged builds -------------------------------------------------------------------


def test_an_escalation_is_named_in_arabic(office: Office, app: Flask, container: Container) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    make_overdue(container, process.id)
    container.tasks.escalate_overdue()
    with container.reader() as uow:
        escalation, stored = uow.session.execute(
            select(Task.id, Task.name).where(Task.escalated_task_id == process.id)
        ).one()
    assert stored == f"Délai dépassé : {process.name}"
    step_ar = catalogue("ar")[process.name]
    expected = f"تجاوز الأجل: {step_ar}"
    chef = login(app, "chef")
    assert expected in page(chef, "/tasks/")
    shown = page(chef, f"/tasks/{escalation}")
    assert f"<title>{expected}" in shown
    assert stored not in shown
    assert catalogue("ar")[ESCALATION_HELP] in shown
    assert expected in page(chef, f"/mail/{mail_id}")  # the circuit's steps
    french = page(login(app, "directeur"), f"/tasks/{escalation}")  # the manager above
    assert stored in french
    assert expected not in french


def test_the_history_and_the_circuit_name_steps_and_circuits_in_arabic(
    office: Office, app: Flask, container: Container
) -> None:
    mail_id = office.register()
    office.dispatch(mail_id)
    with container.reader() as uow:
        dispatched = uow.session.execute(
            select(Task.name).where(Task.mail_id == mail_id, Task.state == "done")
        ).scalar_one()
    ar = catalogue("ar")
    shown = page(login(app, "chef"), f"/mail/{mail_id}")
    assert f"{ar[dispatched]} — {ar['Dispatcher']}" in shown  # the history
    assert dispatched not in shown
    assert "Courrier arrivée" not in shown  # the circuit's name, in its caption and diagram
    assert ar["Courrier arrivée"] in shown


def test_the_holidays_page_names_the_weekend_in_arabic(office: Office, app: Flask) -> None:
    shown = page(login(app, "admin"), "/admin/holidays")
    assert "(السبت والأحد)" in shown
    assert "samedi" not in shown


# --- the services' errors -------------------------------------------------------------------


def test_a_service_error_with_a_date_is_shown_in_arabic(office: Office, app: Flask) -> None:
    admin = login(app, "admin")
    day = dt.date(2026, 5, 1)
    for _ in range(2):
        token = form_token(admin, "/admin/holidays")
        response = admin.post(
            "/admin/holidays",
            data={"day": day.isoformat(), "name": "Fête du travail", "csrf_token": token},
        )
    assert response.status_code == 400
    shown = html.unescape(text(response))
    assert f"يوم {format_date(day, 'short', locale='ar_MA')} يوم عطلة من قبل." in shown
    assert "est déjà un jour férié" not in shown


def test_a_duplicate_unit_code_is_refused_in_arabic(office: Office, app: Flask) -> None:
    admin = login(app, "admin")
    token = form_token(admin, "/admin/units/new")
    response = admin.post(
        "/admin/units/new",
        data={"code": "SAU", "name": "Doublon", "active": "y", "csrf_token": token},
    )
    assert response.status_code == 400
    shown = html.unescape(text(response))
    assert "رمز المصلحة SAU موجود من قبل." in shown
    assert "existe déjà" not in shown


def test_a_unit_a_person_names_in_a_step_is_refused_in_their_language(
    office: Office, app: Flask
) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    with pytest.raises(ValidationError) as refused:
        office.container.tasks.complete(
            office.director,
            dispatch.id,
            "dispatch",
            {"addressed_unit": "NOPE", "processing_deadline": 10},
        )
    assert str(refused.value) == "L'entité « NOPE » indiquée dans « addressed_unit » n'existe pas."
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        assert translate(refused.value.message) == (
            "المصلحة «NOPE» المحددة في «addressed_unit» غير موجودة."
        )


def test_a_french_page_shows_the_french_text(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        error = ValidationError("Le %(day)s est déjà un jour férié.", day=dt.date(2026, 5, 1))
        assert translate(error.message) == str(error) == "Le 01/05/2026 est déjà un jour férié."


def test_translate_fills_a_template_in_the_page_s_language(app: Flask) -> None:
    when = dt.datetime(2026, 3, 9, 14, 5, tzinfo=dt.UTC)
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        done = Conflict(
            "Cette tâche a déjà été traitée par %(who)s le %(when)s.", who="Said", when=when
        )
        shown = translate(done.message)
        assert shown.startswith("سبق أن عالج Said هذه المهمة بتاريخ ")
        assert "09/03/2026" not in shown
        missing = ValidationError(
            "La suite « %(outcome)s » demande : %(fields)s.",
            outcome=Label("Répondre"),
            fields="reply_due",
        )
        assert translate(missing.message) == (
            f"الإجراء «{catalogue('ar')['Répondre']}» يتطلب: reply_due."
        )
        # Not in the catalogue: the French text, values filled in.
        unknown = NotFound("Rien de tel : %(what)s.", what="x")
        assert translate(unknown.message) == "Rien de tel : x."
        assert translate("Délai dépassé : Étape inconnue") == "تجاوز الأجل: Étape inconnue"


def test_the_name_helpers_fall_back_to_the_french_name(office: Office, app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        assert unit_label(str(office.sau), "SAU · Autorisations") == f"SAU · {SAU_AR}"
        assert unit_label(str(office.sj), "SJ · Juridique") == "SJ · Juridique"
        assert unit_label("0", "Sans entité") == "بدون مصلحة"
        assert coded_unit_label("SAU · Autorisations") == f"SAU · {SAU_AR}"
        assert mail_type_name(office.incoming_type, "Demande") == DEM_AR
        assert mail_type_name(office.outgoing_type, "Réponse") == "Réponse"
        assert local_name(None) == ""
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert unit_label(str(office.sau), "SAU · Autorisations") == "SAU · Autorisations"
        assert mail_type_name(office.incoming_type, "Demande") == "Demande"


def test_a_refused_circuit_is_explained_in_arabic_with_the_engine_s_detail(
    office: Office, app: Flask
) -> None:
    admin = login(app, "admin")
    refused = upload(admin, b"<bpmn:definitions")
    assert refused.status_code == 400
    shown = html.unescape(text(refused))
    assert "الملف ليس XML سليم البنية. التفاصيل:" in shown
    assert "bien formé" not in shown
    assert "not well-formed" in shown  # the engine's own words, for whoever fixes the diagram
