"""Who may open which administration page: admin all, auditor the lists, others nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.admin import UserData
from tests.builders import SYSTEM
from tests.conftest import AuthActions, csrf_token
from tests.e2e.conftest import People, redirects_to_login, snapshot, text

LISTS = ["/admin/units", "/admin/users"]


def _forms(people: People) -> list[str]:
    return [
        "/admin/units/new",
        f"/admin/units/{people.unit_id}",
        "/admin/users/new",
        f"/admin/users/{people.agent}",
    ]


def _posts(people: People) -> dict[str, dict[str, str]]:
    """A valid submission for every form, including a self-promotion to admin."""
    return {
        "/admin/units/new": {"code": "X1", "name": "Intruse", "active": "y"},
        f"/admin/units/{people.unit_id}": {"code": "DG", "name": "Renommée", "active": "y"},
        "/admin/users/new": {
            "username": "intruder",
            "full_name": "Intrus",
            "role": "admin",
            "locale": "fr",
            "active": "y",
            "password": "long enough password",
        },
        f"/admin/users/{people.agent}": {
            "full_name": "Personne agent",
            "role": "admin",
            "unit_id": str(people.unit_id),
            "locale": "fr",
            "active": "y",
            "password": "",
        },
    }


def _session_token(client: FlaskClient, page: str) -> str:
    return csrf_token(client.get(page).get_data(as_text=True))


def test_admin_opens_every_administration_page(people: People, auth: AuthActions) -> None:
    auth.login("admin")

    for path in LISTS + _forms(people):
        assert auth.client.get(path).status_code == 200, path


def test_auditor_reads_the_lists_without_edit_links(people: People, auth: AuthActions) -> None:
    auth.login("auditor")

    units = auth.client.get("/admin/units")
    users = auth.client.get("/admin/users")

    assert units.status_code == users.status_code == 200
    assert "Direction générale" in text(units)
    assert "Personne registrar" in text(users)
    for page in (units, users):
        html = page.get_data(as_text=True)
        assert "/new" not in html
        assert f'href="/admin/users/{people.agent}"' not in html
        assert f'href="/admin/units/{people.unit_id}"' not in html


def test_auditor_gets_403_on_every_create_and_edit_form_and_changes_nothing(
    people: People, auth: AuthActions, container: Container
) -> None:
    auth.login("auditor")
    token = _session_token(auth.client, "/admin/units")
    before = snapshot(container)

    for path in _forms(people):
        assert auth.client.get(path).status_code == 403, f"GET {path}"
    for path, data in _posts(people).items():
        response = auth.client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, f"POST {path}"
        assert "réservée aux administrateurs" in text(response)

    assert snapshot(container) == before


@pytest.mark.parametrize("username", ["agent", "registrar", "manager"])
def test_other_roles_get_403_on_every_administration_page_and_change_nothing(
    people: People, auth: AuthActions, container: Container, username: str
) -> None:
    auth.login(username)
    token = _session_token(auth.client, "/")
    before = snapshot(container)

    for path in LISTS + _forms(people):
        response = auth.client.get(path)
        assert response.status_code == 403, f"GET {path}"
        assert "réservée aux administrateurs" in text(response)
    for path, data in _posts(people).items():
        assert auth.client.post(path, data={**data, "csrf_token": token}).status_code == 403, path

    assert snapshot(container) == before
    home = text(auth.client.get("/"))
    assert "/admin/" not in home


def test_anonymous_is_sent_to_the_login_form_from_every_administration_page(
    people: People, auth: AuthActions, container: Container
) -> None:
    token = _session_token(auth.client, "/login")
    before = snapshot(container)

    for path in LISTS + _forms(people):
        assert redirects_to_login(auth.client.get(path)), f"GET {path}"
    for path, data in _posts(people).items():
        response = auth.client.post(path, data={**data, "csrf_token": token})
        assert redirects_to_login(response), f"POST {path}"

    assert snapshot(container) == before


def test_an_admin_demoted_while_logged_in_loses_the_pages_at_the_next_request(
    people: People, auth: AuthActions, container: Container
) -> None:
    """The role is read from the account at each request, not remembered in the cookie."""
    auth.login("admin")
    assert auth.client.get("/admin/users").status_code == 200
    admin = container.admin.get_user(SYSTEM, people.admin)
    container.admin.update_user(
        SYSTEM,
        people.admin,
        UserData(username=admin.username, full_name=admin.full_name, role=Role.REGISTRAR.value),
    )

    assert auth.client.get("/admin/users").status_code == 403
