"""Login throttling: per user name and per address, in the database shared by every process."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ged.adapters.orm import RateLimit
from ged.bootstrap import Container
from ged.domain.model import AuditAction, Role
from tests.builders import Builders
from tests.e2e.conftest import events, form_token, sessions_of, text

LIMIT = 3
RULE = f"{LIMIT}/hour"  # a long window: a slow machine cannot outlive it mid-test
THROTTLED = "Trop de tentatives de connexion."


def _login(
    client: FlaskClient, username: str, password: str, headers: dict[str, str] | None = None
) -> TestResponse:
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": form_token(client, "/login"),
        },
        headers=headers or {},
    )


def _assert_throttled(client: FlaskClient, response: TestResponse) -> None:
    """The implemented answer to a browser: back to the login form with a message."""
    assert response.status_code == 303
    assert response.location.split("?")[0].endswith("/login")
    assert THROTTLED in text(client.get(response.location))


def _fail(client: FlaskClient, username: str, times: int) -> None:
    for _ in range(times):
        assert _login(client, username, "not the password").status_code == 401


def test_failed_logins_beyond_the_per_username_limit_are_throttled_and_audited(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    build.user("alice")
    client = make_app(login_limit_per_username=RULE).test_client()
    _fail(client, "alice", LIMIT)

    response = _login(client, "alice", "not the password")

    _assert_throttled(client, response)
    [event] = events(container, AuditAction.LOGIN_THROTTLED)
    assert event.details == {"username": "alice", "limit": f"{LIMIT} per 1 hour"}
    assert len(events(container, AuditAction.LOGIN_FAILED)) == LIMIT  # the refused try ran nothing


def test_right_password_is_refused_while_the_username_is_throttled(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    alice = build.user("alice")
    client = make_app(login_limit_per_username=RULE).test_client()
    _fail(client, "alice", LIMIT)

    response = _login(client, "ALICE ", Builders.PASSWORD)  # spelling does not reset the count

    _assert_throttled(client, response)
    assert sessions_of(container, alice) == []
    assert events(container, AuditAction.LOGIN_SUCCEEDED) == []
    assert client.get("/").status_code == 302


def test_throttling_one_username_leaves_other_people_able_to_log_in(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    build.user("alice")
    bob = build.user("bob", role=Role.REGISTRAR)
    client = make_app(login_limit_per_username=RULE).test_client()
    _fail(client, "alice", LIMIT)

    response = _login(client, "bob", Builders.PASSWORD)

    assert response.status_code == 303
    assert len(sessions_of(container, bob)) == 1


def test_successful_logins_do_not_count_towards_the_username_limit(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    alice = build.user("alice")
    app = make_app(login_limit_per_username=RULE)

    for _ in range(LIMIT + 1):
        response = _login(app.test_client(), "alice", Builders.PASSWORD)
        assert response.status_code == 303
        assert urlsplit(response.location).path == "/"  # home, not back to the login form

    assert len(sessions_of(container, alice)) == LIMIT + 1
    assert events(container, AuditAction.LOGIN_THROTTLED) == []


def test_throttled_login_answers_429_problem_to_json_clients(
    build: Builders, make_app: Callable[..., Flask]
) -> None:
    build.user("alice")
    client = make_app(login_limit_per_username=RULE).test_client()
    _fail(client, "alice", LIMIT)

    response = _login(client, "alice", Builders.PASSWORD, {"Accept": "application/json"})

    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert THROTTLED in response.get_json()["detail"]


def test_varying_x_forwarded_for_does_not_reset_the_per_address_limit(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    assert container.settings.security.trusted_proxies == 0
    alice = build.user("alice")
    client = make_app(login_limit_per_address=RULE).test_client()
    for n in range(LIMIT):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert _login(client, f"user{n}", "not the password", spoofed).status_code == 401

    response = _login(client, "alice", Builders.PASSWORD, {"X-Forwarded-For": "198.51.100.7"})

    _assert_throttled(client, response)
    assert sessions_of(container, alice) == []
    assert {e.ip for e in events(container, AuditAction.LOGIN_FAILED)} == {"127.0.0.1"}
    assert len(events(container, AuditAction.LOGIN_THROTTLED)) == 1


def test_login_counters_are_shared_by_app_instances_on_the_same_database(
    build: Builders, make_app: Callable[..., Flask], container: Container
) -> None:
    """Two processes = two apps, each with its own container and engine on one database.

    The second app is created only after the first has counted the failures: creating it binds
    the rate limiter to fresh storage, so whatever it still knows was read from the database.
    """
    alice = build.user("alice")
    first = make_app(login_limit_per_username=RULE).test_client()
    _fail(first, "alice", LIMIT)
    with container.reader() as uow:
        keys = uow.session.execute(select(RateLimit.key)).scalars().all()
    assert any("alice" in key for key in keys)

    second = make_app(login_limit_per_username=RULE).test_client()
    assert second.application.extensions["ged"].engine is not (
        first.application.extensions["ged"].engine
    )
    response = _login(second, "alice", Builders.PASSWORD)

    _assert_throttled(second, response)
    assert sessions_of(container, alice) == []
    assert len(events(container, AuditAction.LOGIN_THROTTLED)) == 1
