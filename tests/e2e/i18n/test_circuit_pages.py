"""The pages of a running circuit in Arabic: the task, its mail, the dashboard and its lists."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.e2e.conftest import text
from tests.e2e.dashboard.conftest import _make_late, _process_task
from tests.e2e.i18n.conftest import catalogue, html_tag, logged_in, visible_texts
from tests.integration.circuits.conftest import Office, make_office
from web.i18n import translate


@pytest.fixture
def office(container: Container) -> Office:
    office = make_office(container)
    for actor in (office.director, office.agent, office.chef):
        container.accounts.set_locale(actor, "ar")
    return office


def _assert_arabic(page: str) -> None:
    tag = html_tag(page)
    assert 'lang="ar"' in tag
    assert 'dir="rtl"' in tag
    translations = catalogue("ar")
    french = {msgid for msgid, msgstr in translations.items() if msgstr != msgid}
    left = [shown for shown in visible_texts(page) if shown in french]
    assert not left, left


def test_the_circuit_pages_speak_arabic(
    office: Office, container: Container, client: FlaskClient
) -> None:
    mail_id = office.register("Demande de certificat d'urbanisme")
    office.dispatch(mail_id)
    task_id = _process_task(container, mail_id)
    _make_late(container, task_id, 4)

    logged_in(client, "agent")
    for path in ("/", "/tasks/", f"/tasks/{task_id}", f"/mail/{mail_id}", "/tasks/delegations"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_arabic(text(response))
    task_page = text(client.get(f"/tasks/{task_id}"))
    assert "معالجة المهمة" in task_page  # "Traiter la tâche"
    assert "متأخر" in task_page  # the overdue badge

    client.post("/logout", data={})  # a fresh client below; this one keeps its session
    chef = logged_in(client.application.test_client(), "chef")
    for path in (
        "/dashboard/",
        "/dashboard/tasks?list=overdue",
        "/dashboard/tasks?list=overdue&age=2",
        "/tasks/?tab=overdue",
    ):
        response = chef.get(path)
        assert response.status_code == 200, path
        _assert_arabic(text(response))
    dashboard = text(chef.get("/dashboard/"))
    assert "المهام المتأخرة حسب المصلحة" in dashboard  # a chart title from the web layer
    assert "من 4 إلى 7 أيام عمل" in dashboard  # an age bucket from the service


def test_a_service_message_with_a_fixed_text_is_translated(
    office: Office, client: FlaskClient
) -> None:
    logged_in(client, "agent")
    response = client.get("/tasks/999999")
    assert response.status_code == 404
    page = text(response)
    assert 'dir="rtl"' in html_tag(page)
    assert "خطأ 404" in page
    assert "المهمة غير موجودة." in page  # the service raised NotFound("Tâche introuvable.")
    assert "Tâche introuvable." not in page


def test_a_service_message_with_values_stays_french(app: Flask) -> None:
    """Messages built with values have no msgid: they are shown as the service wrote them."""
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert translate("Tâche introuvable.") == "المهمة غير موجودة."
        assert translate("Le type DEM existe déjà.") == "Le type DEM existe déjà."
        assert translate("100 %") == "100 %"
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert translate("Tâche introuvable.") == "Tâche introuvable."


def test_a_french_person_still_reads_the_service_message_in_french(
    office: Office, client: FlaskClient
) -> None:
    logged_in(client, "collegue")
    page = text(client.get("/tasks/999999"))
    assert "Tâche introuvable." in page
