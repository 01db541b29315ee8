"""Sessions live on the server: logout, password change, account disable and timeouts end them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import update

from ged.adapters.orm import AuthSession, utcnow
from ged.bootstrap import Container
from ged.domain.model import AuditAction, Role
from ged.services.accounts import TOUCH_INTERVAL
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import (
    SESSION_COOKIE,
    People,
    events,
    form_token,
    redirects_to_login,
    session_cookie,
    sessions_of,
    text,
)

NEW_PASSWORD = "a brand new passphrase"


def _set_session(container: Container, user_id: int, **values: object) -> None:
    with container.writer() as uow:
        uow.session.execute(
            update(AuthSession).where(AuthSession.user_id == user_id).values(**values)
        )
        uow.commit()


def _refusals(container: Container) -> list[str]:
    return [e.details["reason"] for e in events(container, AuditAction.SESSION_REJECTED)]


def test_logout_ends_the_session_on_the_server_and_the_old_cookie_is_refused(
    build: Builders, auth: AuthActions, new_client: Callable[[], AuthActions], container: Container
) -> None:
    alice = build.user("alice")
    auth.login("alice")
    old_cookie = session_cookie(auth.client)

    response = auth.logout()

    assert response.status_code == 303
    assert redirects_to_login(response)
    [row] = sessions_of(container, alice)
    assert row.ended_at is not None
    assert row.end_reason == "logout"
    assert len(events(container, AuditAction.LOGGED_OUT)) == 1
    replay = new_client().client
    replay.set_cookie(SESSION_COOKIE, old_cookie)
    assert redirects_to_login(replay.get("/"))
    assert _refusals(container) == ["logout"]


def test_password_change_ends_every_other_session_and_keeps_the_changer_logged_in(
    build: Builders, auth: AuthActions, new_client: Callable[[], AuthActions], container: Container
) -> None:
    alice = build.user("alice")
    other = new_client()
    auth.login("alice")
    other.login("alice")
    assert other.client.get("/").status_code == 200

    response = auth.client.post(
        "/account/password",
        data={
            "current": Builders.PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": form_token(auth.client, "/account/password"),
        },
    )

    assert response.status_code == 303
    home = auth.client.get("/")
    assert home.status_code == 200
    assert "Vos autres sessions ont été fermées." in text(home)
    assert redirects_to_login(other.client.get("/"))
    assert _refusals(container) == ["password changed"]
    assert container.accounts.open_sessions(alice) == 1
    assert len(events(container, AuditAction.PASSWORD_CHANGED)) == 1
    assert new_client().login("alice").status_code == 401
    assert new_client().login("alice", NEW_PASSWORD).status_code == 303


def test_disabling_an_account_in_the_admin_form_ends_all_its_sessions_at_once(
    people: People, auth: AuthActions, new_client: Callable[[], AuthActions], container: Container
) -> None:
    agent_browsers = [new_client(), new_client()]
    for browser in agent_browsers:
        browser.login("agent")
        assert browser.client.get("/").status_code == 200
    auth.login("admin")
    path = f"/admin/users/{people.agent}"

    response = auth.client.post(
        path,
        data={  # "active" left out: the box is unticked
            "full_name": "Personne agent",
            "email": "",
            "role": Role.AGENT.value,
            "unit_id": str(people.unit_id),
            "locale": "fr",
            "password": "",
            "csrf_token": form_token(auth.client, path),
        },
    )

    assert response.status_code == 303
    assert container.accounts.open_sessions(people.agent) == 0
    for browser in agent_browsers:
        assert redirects_to_login(browser.client.get("/"))
    assert _refusals(container) == ["account disabled", "account disabled"]
    assert [e.object_id for e in events(container, AuditAction.USER_DISABLED)] == [
        str(people.agent)
    ]
    assert auth.client.get("/").status_code == 200


def _logged_in(build: Builders, auth: AuthActions) -> tuple[int, FlaskClient]:
    alice = build.user("alice")
    auth.login("alice")
    assert auth.client.get("/").status_code == 200
    return alice, auth.client


def test_session_idle_longer_than_the_idle_timeout_is_ended(
    build: Builders, auth: AuthActions, container: Container
) -> None:
    alice, client = _logged_in(build, auth)
    idle = dt.timedelta(minutes=container.settings.security.session_idle_minutes)
    _set_session(container, alice, last_seen_at=utcnow() - idle - dt.timedelta(minutes=1))

    assert redirects_to_login(client.get("/"))

    [row] = sessions_of(container, alice)
    assert row.end_reason == "idle"
    assert row.ended_at is not None
    assert _refusals(container) == ["idle"]


def test_activity_within_the_idle_timeout_keeps_the_session_alive(
    build: Builders, auth: AuthActions, container: Container
) -> None:
    alice, client = _logged_in(build, auth)
    idle = dt.timedelta(minutes=container.settings.security.session_idle_minutes)
    seen = utcnow() - idle + dt.timedelta(minutes=1)
    _set_session(container, alice, last_seen_at=seen)

    assert client.get("/").status_code == 200

    [row] = sessions_of(container, alice)
    assert row.ended_at is None
    assert row.last_seen_at - seen > TOUCH_INTERVAL  # the request counted as activity
    assert _refusals(container) == []


def test_session_past_its_absolute_expiry_is_ended_even_when_active(
    build: Builders, auth: AuthActions, container: Container
) -> None:
    alice, client = _logged_in(build, auth)
    _set_session(container, alice, expires_at=utcnow() - dt.timedelta(seconds=1))

    assert redirects_to_login(client.get("/"))

    [row] = sessions_of(container, alice)
    assert row.end_reason == "expired"
    assert _refusals(container) == ["expired"]


def test_session_lifetime_is_bounded_by_the_absolute_limit_at_login(
    build: Builders, auth: AuthActions, container: Container
) -> None:
    alice, _ = _logged_in(build, auth)

    [row] = sessions_of(container, alice)

    hours = container.settings.security.session_absolute_hours
    assert row.expires_at - row.created_at == dt.timedelta(hours=hours)
