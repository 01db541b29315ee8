"""The dashboard pages by role, their drill-down lists, SVG escaping and CSV exports."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions
from tests.e2e.conftest import redirects_to_login, text
from tests.e2e.dashboard.conftest import FORMULA_TYPE, XSS_UNIT, Agency

PAGES = ("/dashboard/", "/dashboard/tasks", "/dashboard/overdue-units.csv")


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(
    client: FlaskClient, agency: Agency, path: str
) -> None:
    assert redirects_to_login(client.get(path))


@pytest.mark.parametrize("username", ["agent", "greffier", "etranger"])
@pytest.mark.parametrize("path", PAGES)
def test_people_who_manage_no_unit_have_no_dashboard(
    client: FlaskClient, auth: AuthActions, agency: Agency, username: str, path: str
) -> None:
    auth.login(username)

    response = client.get(path)

    assert response.status_code == 403
    assert "Demande en retard" not in text(response)
    assert "Tableau de bord</a>" not in text(client.get("/"))


@pytest.mark.parametrize("username", ["chef", "directeur", "admin", "auditeur"])
def test_managers_admins_and_auditors_see_the_dashboard(
    client: FlaskClient, auth: AuthActions, agency: Agency, username: str
) -> None:
    auth.login(username)

    page = client.get("/dashboard/")

    assert page.status_code == 200
    body = text(page)
    assert "Tâches en retard aujourd'hui" in body
    assert 'role="img"' in body
    assert '<title id="chart-overdue-units-title">' in body
    assert "style=" not in page.get_data(as_text=True)
    assert 'href="/static/dashboard.css"' in body
    assert "Tableau de bord</a>" in text(client.get("/"))


def test_a_manager_sees_only_the_units_below_them(
    client: FlaskClient, auth: AuthActions, agency: Agency
) -> None:
    auth.login("chef")

    body = text(client.get("/dashboard/"))
    listed = client.get(f"/dashboard/tasks?list=overdue&unit={agency.office.sau}")
    other = client.get(f"/dashboard/tasks?list=overdue&unit={agency.hostile_unit}")

    assert "SAU · Autorisations" in body
    assert "XSS" not in body
    assert listed.status_code == 200
    assert "Demande en retard" in text(listed)
    assert other.status_code == 403


def test_every_bar_leads_to_a_list_that_shows_its_tasks(
    client: FlaskClient, auth: AuthActions, agency: Agency
) -> None:
    auth.login("directeur")
    html = client.get("/dashboard/").get_data(as_text=True)

    unit_link = f"/dashboard/tasks?list=overdue&amp;unit={agency.hostile_unit}"
    assert unit_link in html
    listed = client.get(unit_link.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert "Dossier piégé" in text(listed)
    assert "Demande en retard" not in text(listed)
    assert "/dashboard/tasks?list=overdue&amp;step=incoming_mail/process" in html
    by_step = text(client.get("/dashboard/tasks?list=overdue&step=incoming_mail/process"))
    assert "Dossier piégé" in by_step
    assert "Demande en retard" in by_step
    by_age = text(client.get("/dashboard/tasks?list=overdue&age=1"))
    assert "2 tâches" in by_age
    assert "/mail/?direction=incoming" in html


def test_a_unit_name_with_markup_is_escaped_in_the_svg_and_the_tables(
    client: FlaskClient, auth: AuthActions, agency: Agency
) -> None:
    auth.login("admin")

    html = client.get("/dashboard/").get_data(as_text=True)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    listed = client.get(f"/dashboard/tasks?unit={agency.hostile_unit}").get_data(as_text=True)
    assert "<script>alert" not in listed


def read_csv(client: FlaskClient, name: str) -> list[list[str]]:
    response = client.get(f"/dashboard/{name}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_csv_exports_hold_the_tables_with_formulas_neutralised(
    client: FlaskClient, auth: AuthActions, agency: Agency
) -> None:
    auth.login("admin")

    units = read_csv(client, "overdue-units")
    types = read_csv(client, "compliance-types")
    ages = read_csv(client, "overdue-ages")

    assert units[0] == ["Entité", "Tâches en retard"]
    assert ["SAU · Autorisations", "1"] in units
    assert [f"XSS · {XSS_UNIT}", "1"] in units
    [formula] = [row for row in types if FORMULA_TYPE in row[0]]
    assert formula[0] == "'" + FORMULA_TYPE
    assert formula[3] == "1"  # due in the period, past due and still open
    assert ages[1] == ["1 à 3 jours ouvrés", "2"]
    for name in ("overdue-steps", "compliance-units", "volumes"):
        assert len(read_csv(client, name)) >= 2
    assert client.get("/dashboard/nothing.csv").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["from=2026-12-01&to=2026-11-01", "from=demain", "from=2020-01-01&to=2026-01-01"],
)
def test_a_bad_period_is_refused_with_a_clear_message(
    client: FlaskClient, auth: AuthActions, agency: Agency, query: str
) -> None:
    auth.login("admin")

    response = client.get(f"/dashboard/?{query}")

    assert response.status_code == 400
    assert "période" in text(response) or "date" in text(response)


def test_a_chosen_period_is_kept_in_the_links_and_exports(
    client: FlaskClient, auth: AuthActions, agency: Agency
) -> None:
    auth.login("admin")

    html = client.get("/dashboard/?from=2026-01-05&to=2026-03-01").get_data(as_text=True)

    assert "/dashboard/volumes.csv?from=2026-01-05&amp;to=2026-03-01" in html
    assert 'value="2026-01-05"' in html
