"""Every state-changing form, and htmx, needs the session's CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM, Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import People, events, form_token, hx_token, snapshot, text


@dataclass(frozen=True)
class Post:
    path: str
    form_page: str  # where a browser gets the form (and its token)
    login_as: str | None
    data: dict[str, str] = field(default_factory=dict)


POSTS = {
    "login": Post("/login", "/login", None, {"username": "agent", "password": Builders.PASSWORD}),
    "logout": Post("/logout", "/", "agent"),
    "password": Post(
        "/account/password",
        "/account/password",
        "agent",
        {
            "current": Builders.PASSWORD,
            "password": "another long passphrase",
            "confirm": "another long passphrase",
        },
    ),
    "new-unit": Post(
        "/admin/units/new", "/admin/units/new", "admin", {"code": "NEW", "name": "Nouvelle"}
    ),
    "new-user": Post(
        "/admin/users/new",
        "/admin/users/new",
        "admin",
        {
            "username": "newbie",
            "full_name": "Nouvelle recrue",
            "role": "registrar",
            "locale": "fr",
            "active": "y",
            "password": "long enough password",
        },
    ),
}


def _browser(auth: AuthActions, post: Post) -> str:
    """Log in as the case requires and open the form; returns the genuine token."""
    if post.login_as:
        assert auth.login(post.login_as).status_code == 303
    return form_token(auth.client, post.form_page)


@pytest.mark.parametrize("name", POSTS)
@pytest.mark.parametrize("token", ["missing", "garbage", "other-session"])
def test_post_without_the_sessions_csrf_token_is_refused_audited_and_changes_nothing(
    people: People,
    auth: AuthActions,
    new_client: Callable[[], AuthActions],
    container: Container,
    name: str,
    token: str,
) -> None:
    post = POSTS[name]
    _browser(auth, post)
    data = dict(post.data)
    if token == "garbage":
        data["csrf_token"] = "IjAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OSI.forged.signature"
    elif token == "other-session":
        data["csrf_token"] = _browser(new_client(), post)
    before = snapshot(container)

    response = auth.client.post(post.path, data=data)

    assert response.status_code == 400
    assert "le jeton de sécurité du formulaire manque ou a expiré" in text(response)
    assert snapshot(container) == before
    [event] = events(container, AuditAction.CSRF_REJECTED)
    assert event.details["path"] == post.path
    if post.login_as:
        assert auth.client.get("/").status_code == 200  # still logged in


@pytest.mark.parametrize("name", POSTS)
def test_same_post_with_the_sessions_csrf_token_is_accepted(
    people: People, auth: AuthActions, container: Container, name: str
) -> None:
    """The counterpart of the refusals above: the very same requests do change something."""
    post = POSTS[name]
    data = {**post.data, "csrf_token": _browser(auth, post)}
    before = snapshot(container)

    response = auth.client.post(post.path, data=data)

    assert response.status_code == 303
    assert snapshot(container) != before
    assert events(container, AuditAction.CSRF_REJECTED) == []


def test_htmx_request_carrying_the_token_in_the_header_is_accepted(
    people: People, auth: AuthActions, container: Container
) -> None:
    auth.login("admin")
    headers = {"X-CSRFToken": hx_token(auth.client), "HX-Request": "true"}

    created = auth.client.post(
        "/admin/units/new", data={"code": "HTMX", "name": "Par htmx"}, headers=headers
    )
    logged_out = auth.client.post("/logout", headers=headers)

    assert created.status_code == 303
    assert container.admin.unit_by_code(SYSTEM, "HTMX") is not None
    assert logged_out.status_code == 303
    assert container.accounts.open_sessions(people.admin) == 0
    assert events(container, AuditAction.CSRF_REJECTED) == []


def test_htmx_request_with_a_wrong_header_token_is_refused(
    people: People, auth: AuthActions, new_client: Callable[[], AuthActions], container: Container
) -> None:
    auth.login("admin")
    hx_token(auth.client)
    someone_else = new_client()
    someone_else.login("admin")

    response = auth.client.post(
        "/admin/units/new",
        data={"code": "HTMX", "name": "Par htmx"},
        headers={"X-CSRFToken": hx_token(someone_else.client), "HX-Request": "true"},
    )

    assert response.status_code == 400
    assert container.admin.unit_by_code(SYSTEM, "HTMX") is None
    assert len(events(container, AuditAction.CSRF_REJECTED)) == 1
