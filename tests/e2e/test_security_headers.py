"""Every HTML page and API answer, error pages included, carries the anti-framing headers."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.test import TestResponse

from ged.bootstrap import Container
from tests.conftest import AuthActions
from tests.e2e.conftest import People

ANONYMOUS_PAGES = [
    "/login",
    "/",  # redirect to the login form
    "/admin/users",  # redirect to the login form
    "/no/such/page",
    "/api/v1/me",  # 401 problem
    "/api/v1/openapi.json",
]
ADMIN_PAGES = [
    "/",
    "/account/password",
    "/admin/units",
    "/admin/units/new",
    "/admin/users",
    "/admin/users/new",
    "/no/such/page",
    "/api/v1/me",
    "/api/v1/openapi.json",
]


def _assert_protected(response: TestResponse, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in policy.split(";")}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", what
    assert directives.get("default-src") == "default-src 'self'", what
    assert "'unsafe-inline'" not in policy, what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what


def test_anonymous_answers_carry_the_security_headers(auth: AuthActions) -> None:
    for path in ANONYMOUS_PAGES:
        _assert_protected(auth.client.get(path), path)


def test_logged_in_answers_carry_the_security_headers(people: People, auth: AuthActions) -> None:
    auth.login("admin")

    for path in ADMIN_PAGES:
        response = auth.client.get(path)
        assert response.status_code in (200, 404), path
        _assert_protected(response, path)


def test_refusals_and_failed_logins_carry_the_security_headers(
    people: People,
    auth: AuthActions,
    new_client: Callable[[], AuthActions],
    container: Container,
) -> None:
    failed_login = auth.login("admin", "not the password")
    auth.login("agent")
    forbidden = auth.client.get("/admin/units")
    csrf_refused = auth.client.post("/logout")
    api_refused = new_client().client.get(
        "/api/v1/me", headers={"Authorization": "Bearer ged_not-a-token"}
    )

    assert [r.status_code for r in (failed_login, forbidden, csrf_refused, api_refused)] == [
        401,
        403,
        400,
        401,
    ]
    for what, response in {
        "failed login": failed_login,
        "403": forbidden,
        "csrf": csrf_refused,
        "api 401": api_refused,
    }.items():
        _assert_protected(response, what)
