"""The "Jours fériés" administration page: list by year, add, edit, delete, validation, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM
from tests.e2e.conftest import events, form_token, snapshot, text
from tests.integration.circuits.conftest import Office

Login = Callable[[str], FlaskClient]


def add(client: FlaskClient, day: str, name: str, year: int = 2030) -> TestResponse:
    token = form_token(client, f"/admin/holidays?year={year}")
    return client.post(
        f"/admin/holidays?year={year}", data={"csrf_token": token, "day": day, "name": name}
    )


def edit(client: FlaskClient, day: str, new_day: str, name: str) -> TestResponse:
    path = f"/admin/holidays/{day}"
    return client.post(
        path, data={"csrf_token": form_token(client, path), "day": new_day, "name": name}
    )


def delete(client: FlaskClient, day: str) -> TestResponse:
    token = form_token(client, "/admin/holidays?year=2030")
    return client.post(f"/admin/holidays/{day}/delete", data={"csrf_token": token})


def days(container: Container, year: int = 2030) -> list[tuple[dt.date, str]]:
    return [(h.day, h.name) for h in container.calendar.holidays(year)]


@pytest.fixture
def ramadan(container: Container) -> dt.date:
    day = dt.date(2030, 2, 5)
    container.calendar.add(SYSTEM, day, "Aïd al-Fitr")
    return day


@pytest.mark.parametrize(
    ("username", "status"),
    [("admin", 200), ("auditeur", 200), ("directeur", 403), ("agent", 403), ("greffier", 403)],
)
def test_the_holidays_page_is_for_admins_and_auditors(
    office: Office, login: Login, ramadan: dt.date, username: str, status: int
) -> None:
    page = login(username).get("/admin/holidays?year=2030")

    assert page.status_code == status
    if status == 200:
        assert "Aïd al-Fitr" in text(page)
        assert "mardi 5 février 2030" in text(page)


def test_the_page_shows_the_weekend_the_year_and_links_to_other_years(
    office: Office, login: Login, ramadan: dt.date, container: Container
) -> None:
    container.calendar.add(SYSTEM, dt.date(2030, 6, 1), "Un samedi")

    page = login("admin").get("/admin/holidays?year=2030")
    other = login("admin").get("/admin/holidays?year=2031")

    shown = text(page)
    assert "ni les week-ends (samedi et dimanche)" in shown
    assert 'href="/admin/holidays?year=2031"' in page.get_data(as_text=True)
    row = shown[shown.index('data-day="2030-06-01"') :]
    assert "tombe un week-end" in row[: row.index("</tr>")]
    assert "Aïd al-Fitr" not in text(other)
    assert "Aucun jour férié pour 2031." in text(other)


def test_auditors_see_no_form_and_no_buttons(
    office: Office, login: Login, ramadan: dt.date
) -> None:
    page = login("auditeur").get("/admin/holidays?year=2030").get_data(as_text=True)

    assert "Ajouter un jour férié" not in page
    assert "/delete" not in page
    assert 'href="/admin/holidays/2030-02-05"' not in page


def test_an_admin_adds_edits_and_deletes_a_holiday_each_audited(
    office: Office, login: Login, container: Container
) -> None:
    admin = login("admin")

    added = add(admin, "2030-02-05", "Aïd al-Fitr")
    edited = edit(admin, "2030-02-05", "2030-02-06", "Aïd al-Fitr (report)")
    after_edit = days(container)
    deleted = delete(admin, "2030-02-06")

    assert added.status_code == edited.status_code == deleted.status_code == 303
    assert added.location.endswith("/admin/holidays?year=2030")
    assert after_edit == [(dt.date(2030, 2, 6), "Aïd al-Fitr (report)")]
    assert days(container) == []
    [added_event] = events(container, AuditAction.HOLIDAY_ADDED)
    [updated] = events(container, AuditAction.HOLIDAY_UPDATED)
    [removed] = events(container, AuditAction.HOLIDAY_REMOVED)
    assert (added_event.object_id, added_event.actor_name) == ("2030-02-05", "admin")
    assert updated.details == {
        "day": ["2030-02-05", "2030-02-06"],
        "name": ["Aïd al-Fitr", "Aïd al-Fitr (report)"],
    }
    assert (removed.object_id, removed.details) == ("2030-02-06", {"name": "Aïd al-Fitr (report)"})
    assert "Jour férié retiré : mercredi 6 février 2030." in text(
        admin.get("/admin/holidays?year=2030")
    )


def test_the_edit_form_starts_from_the_holiday(
    office: Office, login: Login, ramadan: dt.date
) -> None:
    page = login("admin").get("/admin/holidays/2030-02-05").get_data(as_text=True)

    assert 'value="2030-02-05"' in page
    assert 'value="Aïd al-Fitr"' in page


@pytest.mark.parametrize(
    ("day", "name", "message"),
    [
        ("2030-02-05", "Doublon", "Le 05/02/2030 est déjà un jour férié."),
        ("", "Sans date", "Indiquez une date valide."),
        ("05/02/2030", "Format", "Indiquez une date valide."),
        ("2030-02-30", "Trente février", "Indiquez une date valide."),
        ("2030-03-01", "   ", "Nom du jour férié obligatoire"),
        ("2030-03-01", "x" * 101, "100 caractères"),
        ("1900-03-01", "Ancien", "Date hors du calendrier"),
    ],
)
def test_a_bad_holiday_is_refused_and_nothing_changes(
    office: Office,
    login: Login,
    ramadan: dt.date,
    container: Container,
    day: str,
    name: str,
    message: str,
) -> None:
    admin = login("admin")
    before = snapshot(container)

    added = add(admin, day, name)
    edited = edit(admin, "2030-02-05", day, name) if day != "2030-02-05" else None

    assert added.status_code == 400
    assert message in text(added)
    if edited is not None:
        assert edited.status_code == 400
    assert snapshot(container) == before


def test_only_admins_change_holidays(
    office: Office, login: Login, ramadan: dt.date, container: Container
) -> None:
    clients = {username: login(username) for username in ("auditeur", "chef", "greffier")}
    before = snapshot(container)
    for username, client in clients.items():
        token = form_token(client, "/")
        assert client.get("/admin/holidays/2030-02-05").status_code == 403
        for path, data in (
            ("/admin/holidays", {"day": "2030-03-01", "name": "Intrus"}),
            ("/admin/holidays/2030-02-05", {"day": "2030-02-07", "name": "Intrus"}),
            ("/admin/holidays/2030-02-05/delete", {}),
        ):
            response = client.post(path, data={"csrf_token": token, **data})
            assert response.status_code == 403, (username, path)
    assert snapshot(container) == before


def test_holiday_changes_without_a_csrf_token_are_refused(
    office: Office, login: Login, ramadan: dt.date, container: Container
) -> None:
    admin = login("admin")
    before = snapshot(container)

    responses = [
        admin.post("/admin/holidays", data={"day": "2030-03-01", "name": "Sans jeton"}),
        admin.post("/admin/holidays/2030-02-05", data={"day": "2030-02-07", "name": "X"}),
        admin.post("/admin/holidays/2030-02-05/delete"),
    ]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert snapshot(container) == before


def test_unknown_or_malformed_days_are_not_found(office: Office, login: Login) -> None:
    admin = login("admin")

    assert admin.get("/admin/holidays/2030-02-05").status_code == 404
    assert admin.get("/admin/holidays/not-a-date").status_code == 404
    assert delete(admin, "2030-02-05").status_code == 404


def test_holiday_names_are_escaped(office: Office, login: Login, container: Container) -> None:
    admin = login("admin")

    add(admin, "2030-03-01", "<script>alert(1)</script>")
    page = admin.get("/admin/holidays?year=2030").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
