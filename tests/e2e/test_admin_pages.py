"""Administration through the forms: the unit tree, accounts, validation, mass assignment, XSS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM, Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import People, events, form_token, snapshot, text

NEW_PASSWORD = "a fresh long passphrase"


def _submit(client: FlaskClient, path: str, data: dict[str, str]) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": form_token(client, path)})


def _user_fields(unit_id: object, active: bool = True, **changes: str) -> dict[str, str]:
    """The user form as a browser sends it; an unticked box is not sent at all."""
    fields = {"full_name": "Personne agent", "email": "", "role": "agent", "locale": "fr"}
    fields.update({"unit_id": str(unit_id), "password": "", **changes})
    if active:
        fields["active"] = "y"
    return fields


def _select(html: str, name: str) -> str:
    """The markup of one <select>, so that option values of other lists do not count."""
    start = html.index(f'<select class="form-select" id="{name}"')
    return html[start : html.index("</select>", start)]


@pytest.fixture
def admin(people: People, auth: AuthActions) -> FlaskClient:
    assert auth.login("admin").status_code == 303
    return auth.client


# --- units ----------------------------------------------------------------------------------


def test_admin_builds_the_unit_tree_with_a_parent_and_a_manager(
    people: People, admin: FlaskClient, container: Container
) -> None:
    response = _submit(
        admin,
        "/admin/units/new",
        {
            "code": "dsi",
            "name": "Direction des systèmes d'information",
            "name_ar": "مديرية نظم المعلومات",
            "parent_id": str(people.unit_id),
            "manager_id": str(people.manager),
            "active": "y",
        },
    )

    assert response.status_code == 303
    unit = container.admin.unit_by_code(SYSTEM, "DSI")
    assert unit is not None
    assert (unit.parent_id, unit.manager_id, unit.active) == (people.unit_id, people.manager, True)
    assert unit.name_ar == "مديرية نظم المعلومات"
    [event] = [
        e for e in events(container, AuditAction.UNIT_CREATED) if e.object_id == str(unit.id)
    ]
    assert event.actor_id == people.admin
    page = text(admin.get("/admin/units"))
    assert "Unité enregistrée" not in page
    assert "Entité enregistrée." in page
    assert '<td class="unit-depth-1">' in admin.get("/admin/units").get_data(as_text=True)
    assert "Personne manager" in page


def test_admin_renames_moves_and_deactivates_a_unit(
    people: People, build: Builders, admin: FlaskClient, container: Container
) -> None:
    other = build.unit("SG", name="Secrétariat général")

    response = _submit(
        admin,
        f"/admin/units/{other}",
        {"code": "SG", "name": "Secrétariat", "parent_id": str(people.unit_id), "manager_id": ""},
    )

    assert response.status_code == 303
    unit = container.admin.get_unit(SYSTEM, other)
    assert (unit.name, unit.parent_id, unit.active) == ("Secrétariat", people.unit_id, False)
    [event] = events(container, AuditAction.UNIT_UPDATED)
    assert event.details == {
        "name": ["Secrétariat général", "Secrétariat"],
        "parent_id": [None, people.unit_id],
        "active": [True, False],
    }


def test_unit_edit_form_shows_the_current_parent_and_manager(
    people: People, build: Builders, admin: FlaskClient
) -> None:
    child = build.unit("BO", parent_id=people.unit_id, name="Bureau d'ordre")

    html = admin.get(f"/admin/units/{child}").get_data(as_text=True)

    parents = _select(html, "parent_id")
    assert f'<option selected value="{people.unit_id}">' in parents
    assert f'value="{child}"' not in parents  # not offered as its own parent
    assert "selected" not in _select(html, "manager_id").replace('<option selected value="">', "")


# --- users ----------------------------------------------------------------------------------


def test_admin_creates_an_account_with_role_unit_locale_and_password(
    people: People, admin: FlaskClient, container: Container, new_client: Callable[[], AuthActions]
) -> None:
    response = _submit(
        admin,
        "/admin/users/new",
        {
            "username": "Karima.B",
            "full_name": "Karima Bennani",
            "email": "karima@example.org",
            "role": "manager",
            "unit_id": str(people.unit_id),
            "locale": "ar",
            "active": "y",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 303
    user = container.admin.user_by_name(SYSTEM, "karima.b")
    assert user is not None
    assert (user.role, user.unit_id, user.locale, user.active) == (
        "manager",
        people.unit_id,
        "ar",
        True,
    )
    assert NEW_PASSWORD not in user.password_hash
    [event] = [
        e for e in events(container, AuditAction.USER_CREATED) if e.object_id == str(user.id)
    ]
    assert event.actor_id == people.admin
    assert "password" not in str(event.details)
    browser = new_client()
    assert browser.login("karima.b", NEW_PASSWORD).status_code == 303
    assert 'lang="ar" dir="rtl"' in browser.client.get("/").get_data(as_text=True)


def test_admin_changes_role_unit_locale_and_resets_the_password(
    people: People,
    build: Builders,
    admin: FlaskClient,
    container: Container,
    new_client: Callable[[], AuthActions],
) -> None:
    other_unit = build.unit("SG")
    agent_browser = new_client()
    agent_browser.login("agent")

    response = _submit(
        admin,
        f"/admin/users/{people.agent}",
        _user_fields(other_unit, role="manager", locale="ar", password=NEW_PASSWORD),
    )

    assert response.status_code == 303
    user = container.admin.get_user(SYSTEM, people.agent)
    assert (user.role, user.unit_id, user.locale) == ("manager", other_unit, "ar")
    assert container.accounts.open_sessions(people.agent) == 0
    assert agent_browser.client.get("/").status_code == 302
    assert new_client().login("agent").status_code == 401
    assert new_client().login("agent", NEW_PASSWORD).status_code == 303
    assert [e.object_id for e in events(container, AuditAction.PASSWORD_RESET)] == [
        str(people.agent)
    ]


def test_admin_enables_a_disabled_account_again(
    people: People, admin: FlaskClient, container: Container, new_client: Callable[[], AuthActions]
) -> None:
    path = f"/admin/users/{people.agent}"
    assert _submit(admin, path, _user_fields(people.unit_id, active=False)).status_code == 303
    assert new_client().login("agent").status_code == 401

    assert _submit(admin, path, _user_fields(people.unit_id)).status_code == 303

    assert container.admin.get_user(SYSTEM, people.agent).active
    assert len(events(container, AuditAction.USER_ENABLED)) == 1
    assert new_client().login("agent").status_code == 303


def test_admin_cannot_disable_or_demote_their_own_account(
    people: People, admin: FlaskClient, container: Container
) -> None:
    before = snapshot(container)

    response = _submit(
        admin,
        f"/admin/users/{people.admin}",
        _user_fields(people.unit_id, full_name="Personne admin", role="agent"),
    )

    assert response.status_code == 400
    assert "ni retirer votre rôle d'administrateur" in text(response)
    assert snapshot(container) == before


# --- validation -----------------------------------------------------------------------------

UNIT = {"name": "Nouvelle entité", "active": "y"}
USER = {"full_name": "Nouvelle personne", "role": "registrar", "locale": "fr", "active": "y"}
INVALID = {
    "unit-code-with-space": ("/admin/units/new", {**UNIT, "code": "bad code!"}, "Code d'entité invalide"),
    "unit-code-empty": ("/admin/units/new", {**UNIT, "code": ""}, "Ce champ est requis."),
    "unit-code-too-long": ("/admin/units/new", {**UNIT, "code": "A" * 33}, "ne peut pas contenir plus de 32 caractères"),
    "unit-code-taken": ("/admin/units/new", {**UNIT, "code": "DG"}, "Le code d'entité DG existe déjà."),
    "unit-code-taken-on-edit": ("/admin/units/{child}", {**UNIT, "code": "DG"}, "Le code d'entité DG existe déjà."),
    "unit-own-parent": ("/admin/units/{top}", {**UNIT, "code": "DG", "parent_id": "{top}"}, "ne peut pas être rattachée à elle-même ni à ses sous-entités"),
    "unit-under-its-descendant": ("/admin/units/{top}", {**UNIT, "code": "DG", "parent_id": "{grandchild}"}, "ne peut pas être rattachée à elle-même ni à ses sous-entités"),
    "unit-unknown-parent": ("/admin/units/new", {**UNIT, "code": "NEW", "parent_id": "9999"}, "L'entité parente n'existe pas."),
    "username-taken": ("/admin/users/new", {**USER, "username": "agent", "password": NEW_PASSWORD}, "L'identifiant agent est déjà pris."),
    "username-taken-other-case": ("/admin/users/new", {**USER, "username": "Agent", "password": NEW_PASSWORD}, "L'identifiant agent est déjà pris."),
    "username-invalid": ("/admin/users/new", {**USER, "username": "a b", "password": NEW_PASSWORD}, "Identifiant invalide"),
    "password-short-on-create": ("/admin/users/new", {**USER, "username": "newbie", "password": "court"}, "Le mot de passe doit compter au moins 10 caractères."),
    "password-is-username": ("/admin/users/new", {**USER, "username": "newbie.longname", "password": "newbie.longname"}, "Le mot de passe ne peut pas être l'identifiant."),
    "password-short-on-reset": ("/admin/users/{agent}", _user_fields("{top}", full_name="Renommé", password="court"), "Le mot de passe doit compter au moins 10 caractères."),
    "agent-without-unit": ("/admin/users/new", {**USER, "username": "newbie", "role": "agent", "password": NEW_PASSWORD}, "Un responsable ou un agent doit appartenir à une entité."),
    "unknown-role": ("/admin/users/new", {**USER, "username": "newbie", "role": "superuser", "password": NEW_PASSWORD}, "N'est pas un choix valide."),
    "bad-email": ("/admin/users/new", {**USER, "username": "newbie", "email": "pas-une-adresse", "password": NEW_PASSWORD}, "Adresse e-mail invalide."),
}  # fmt: skip


@pytest.mark.parametrize("case", INVALID)
def test_invalid_admin_input_shows_a_french_message_and_changes_nothing(
    people: People, build: Builders, admin: FlaskClient, container: Container, case: str
) -> None:
    child = build.unit("CHILD", parent_id=people.unit_id)
    ids = {
        "top": people.unit_id,
        "child": child,
        "grandchild": build.unit("GRANDCHILD", parent_id=child),
        "agent": people.agent,
    }
    path, data, message = INVALID[case]
    path = path.format(**ids)
    data = {key: value.format(**ids) for key, value in data.items()}
    before = snapshot(container)

    response = _submit(admin, path, data)

    assert response.status_code == 400
    assert message in text(response)
    assert snapshot(container) == before


# --- mass assignment ------------------------------------------------------------------------


def test_password_form_ignores_extra_fields_such_as_role(
    people: People, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")

    response = _submit(
        auth.client,
        "/account/password",
        {
            "current": Builders.PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "role": "admin",
            "username": "admin",
            "unit_id": "",
            "active": "n",
            "is_admin": "true",
        },
    )

    assert response.status_code == 303
    user = container.admin.get_user(SYSTEM, people.agent)
    assert (user.username, user.role, user.unit_id, user.active) == (
        "agent",
        "agent",
        people.unit_id,
        True,
    )
    assert container.admin.get_user(SYSTEM, people.admin).username == "admin"
    assert auth.client.get("/admin/users").status_code == 403
    assert len(events(container, AuditAction.PASSWORD_CHANGED)) == 1


def test_user_edit_form_ignores_a_posted_username(
    people: People, admin: FlaskClient, container: Container
) -> None:
    response = _submit(
        admin,
        f"/admin/users/{people.agent}",
        _user_fields(people.unit_id, username="other", full_name="Agent renommé"),
    )

    assert response.status_code == 303
    user = container.admin.get_user(SYSTEM, people.agent)
    assert (user.username, user.full_name) == ("agent", "Agent renommé")
    assert container.admin.user_by_name(SYSTEM, "other") is None
    [event] = events(container, AuditAction.USER_UPDATED)
    assert set(event.details) == {"full_name"}


def test_user_edit_form_ignores_a_posted_username_even_when_taken(
    people: People, admin: FlaskClient, container: Container
) -> None:
    response = _submit(
        admin,
        f"/admin/users/{people.agent}",
        _user_fields(people.unit_id, username="admin"),
    )

    assert response.status_code == 303
    assert container.admin.get_user(SYSTEM, people.agent).username == "agent"
    assert container.admin.get_user(SYSTEM, people.admin).username == "admin"


# --- escaping -------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'


def test_unit_and_user_names_with_markup_are_rendered_escaped(
    people: People, admin: FlaskClient, container: Container
) -> None:
    assert (
        _submit(
            admin,
            "/admin/users/new",
            {**USER, "username": "xss", "full_name": IMAGE, "password": NEW_PASSWORD},
        ).status_code
        == 303
    )
    manager = container.admin.user_by_name(SYSTEM, "xss")
    assert manager is not None
    created = _submit(
        admin,
        "/admin/units/new",
        {"code": "XSS", "name": SCRIPT, "name_ar": IMAGE, "manager_id": str(manager.id), "active": "y"},
    )  # fmt: skip
    assert created.status_code == 303
    unit = container.admin.unit_by_code(SYSTEM, "XSS")
    assert unit is not None
    assert unit.name == SCRIPT  # stored as typed, escaped only when shown

    for path in (
        "/admin/units",
        f"/admin/units/{unit.id}",
        "/admin/users",
        f"/admin/users/{manager.id}",
    ):
        html = admin.get(path).get_data(as_text=True)
        assert SCRIPT not in html, path
        assert "<img src=x" not in html, path
    listing = admin.get("/admin/units").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in listing
