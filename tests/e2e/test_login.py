"""Logging in: outcomes, messages, audit, cookie flags, fixation and open redirects."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from ged.bootstrap import Container
from ged.domain.model import AuditAction, Role
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import (
    SESSION_COOKIE,
    events,
    form_token,
    redirects_to_login,
    session_cookie,
    sessions_of,
    set_active,
    text,
)


def test_right_password_redirects_home_opens_a_session_and_is_audited(
    build: Builders, auth: AuthActions, container: Container
) -> None:
    alice = build.user("alice", role=Role.AGENT)

    response = auth.login("alice")

    assert response.status_code == 303
    assert urlsplit(response.location).path == "/"
    [row] = sessions_of(container, alice)
    assert row.ended_at is None
    [event] = events(container, AuditAction.LOGIN_SUCCEEDED)
    assert (event.actor_id, event.object_id) == (alice, str(alice))
    home = auth.client.get("/")
    assert home.status_code == 200
    assert "Bonjour Personne alice" in text(home)


@pytest.mark.parametrize(
    ("username", "password", "disabled", "message", "reason"),
    [
        ("alice", "not the password", False, "Identifiant ou mot de passe incorrect.", "wrong password"),
        ("nobody", Builders.PASSWORD, False, "Identifiant ou mot de passe incorrect.", "unknown user"),
        ("alice", Builders.PASSWORD, True, "Ce compte est désactivé. Adressez-vous à l'administrateur.", "account disabled"),
    ],
    ids=["wrong-password", "unknown-user", "disabled-account"],
)  # fmt: skip
def test_refused_login_answers_401_with_a_french_message_and_audits_the_reason(
    build: Builders,
    auth: AuthActions,
    container: Container,
    username: str,
    password: str,
    disabled: bool,
    message: str,
    reason: str,
) -> None:
    alice = build.user("alice", role=Role.AGENT)
    if disabled:
        set_active(container, alice, False)

    response = auth.login(username, password)

    assert response.status_code == 401
    assert message in text(response)
    assert sessions_of(container, alice) == []
    [event] = events(container, AuditAction.LOGIN_FAILED)
    assert event.details == {"reason": reason}
    assert event.actor_name == username
    assert events(container, AuditAction.LOGIN_SUCCEEDED) == []
    assert redirects_to_login(auth.client.get("/"))


def test_session_cookie_set_at_login_is_secure_httponly_and_samesite_lax(
    build: Builders, auth: AuthActions
) -> None:
    build.user("alice")

    response = auth.login("alice")

    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE)]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in attributes
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"


def test_login_issues_a_new_cookie_and_a_cookie_planted_before_login_gives_no_access(
    build: Builders, auth: AuthActions, new_client: Callable[[], AuthActions]
) -> None:
    """Session fixation: an attacker's pre-login cookie, planted in the victim's browser, must
    not become a logged-in session when the victim logs in."""
    build.user("alice")
    victim = auth.client
    old_form_token = form_token(victim, "/login")
    planted = session_cookie(victim)
    assert planted

    response = victim.post(
        "/login",
        data={"username": "alice", "password": Builders.PASSWORD, "csrf_token": old_form_token},
    )

    assert response.status_code == 303
    assert session_cookie(victim) not in ("", planted)
    attacker = new_client().client
    attacker.set_cookie(SESSION_COOKIE, planted)
    assert redirects_to_login(attacker.get("/"))
    # Nothing of the pre-login session survives, not even its CSRF secret.
    stale = victim.post("/logout", data={"csrf_token": old_form_token})
    assert stale.status_code == 400
    assert victim.get("/").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/login", "https://evil.example/", "/\\evil.example"],
)
def test_login_never_redirects_to_another_site(
    build: Builders, auth: AuthActions, target: str
) -> None:
    build.user("alice")
    token = form_token(auth.client, "/login")

    response = auth.client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": Builders.PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 303
    location = urlsplit(response.location)
    assert location.netloc in ("", "localhost")
    assert location.path == "/"


def test_login_returns_to_the_same_site_page_that_was_asked_for(
    build: Builders, auth: AuthActions
) -> None:
    build.user("alice", role=Role.ADMIN)
    asked = auth.client.get("/admin/units")
    assert redirects_to_login(asked)
    token = form_token(auth.client, asked.location)

    response = auth.client.post(
        asked.location,
        data={"username": "alice", "password": Builders.PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 303
    assert urlsplit(response.location).path == "/admin/units"
