"""The REST API: bearer tokens from `ged token create`, problem documents, OpenAPI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from click.testing import Result
from flask.testing import FlaskClient
from sqlalchemy import select

from ged.adapters.orm import ApiToken
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.conftest import AuthActions
from tests.e2e.conftest import (
    People,
    all_rows,
    events,
    hx_token,
    redirects_to_login,
    set_active,
    snapshot,
)

Ged = Callable[..., Result]


@pytest.fixture
def token(people: People, ged: Ged) -> str:
    """A bearer token of the agent, created the way an operator does."""
    result = ged("token", "create", "agent", "--name", "scanner")
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def _assert_problem_401(response: object) -> dict[str, object]:
    assert getattr(response, "status_code", None) == 401
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert body["status"] == 401
    return body


def test_token_create_prints_a_token_and_audits_it(
    people: People, ged: Ged, container: Container
) -> None:
    result = ged("token", "create", "agent", "--name", "scanner")

    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("ged_")
    assert len(token) > 40
    [event] = events(container, AuditAction.TOKEN_CREATED)
    assert event.details["user"] == "agent"
    assert event.details["name"] == "scanner"
    assert token not in str(event.details)


def test_token_create_for_an_unknown_user_fails_cleanly(
    people: People, ged: Ged, container: Container
) -> None:
    result = ged("token", "create", "nobody")

    assert result.exit_code == 1
    assert "Utilisateur inconnu" in result.output
    with container.reader() as uow:
        assert uow.session.execute(select(ApiToken)).first() is None


def test_me_with_a_bearer_token_returns_the_account(
    people: People, client: FlaskClient, token: str
) -> None:
    response = client.get("/api/v1/me", headers=_bearer(token))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["id"] == people.agent
    assert (body["username"], body["full_name"]) == ("agent", "Personne agent")
    assert (body["role"], body["locale"]) == ("agent", "fr")
    assert body["unit"] == {"id": people.unit_id, "code": "DG", "name": "Direction générale"}
    assert "password_hash" not in body


def test_me_without_a_token_answers_401_problem_with_a_bearer_challenge(
    client: FlaskClient,
) -> None:
    body = _assert_problem_401(client.get("/api/v1/me"))

    assert "jeton" in str(body["detail"])


@pytest.mark.parametrize(
    "header",
    ["Bearer ged_not-a-real-token", "Bearer ", "Bearer ged_" + "x" * 300],
    ids=["unknown", "empty", "long"],
)
def test_me_with_a_wrong_token_answers_401_and_audits_the_refusal(
    people: People, client: FlaskClient, container: Container, token: str, header: str
) -> None:
    body = _assert_problem_401(client.get("/api/v1/me", headers={"Authorization": header}))

    assert body["detail"] == "Jeton d'accès invalide, expiré ou révoqué."
    [event] = events(container, AuditAction.TOKEN_REJECTED)
    assert event.details["reason"] == "unknown token"
    assert len(event.details["prefix"]) <= 10


def test_token_of_a_disabled_account_is_refused_and_audited(
    people: People, client: FlaskClient, container: Container, token: str
) -> None:
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    set_active(container, people.agent, False)

    _assert_problem_401(client.get("/api/v1/me", headers=_bearer(token)))

    [event] = events(container, AuditAction.TOKEN_REJECTED)
    assert event.details["reason"] == "disabled account"


def test_token_is_stored_only_as_its_hash(container: Container, token: str) -> None:
    with container.reader() as uow:
        [row] = uow.session.execute(select(ApiToken)).scalars().all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(row.prefix)
    for name, rows in all_rows(container).items():
        assert token not in repr(rows), name


def test_openapi_document_lists_me_and_the_bearer_scheme(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/me" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`ged token create`",
    }
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]


def test_bearer_token_does_not_log_anyone_into_html_pages(
    people: People, client: FlaskClient, ged: Ged
) -> None:
    admin_token = ged("token", "create", "admin").output.strip()

    for path in ("/", "/admin/users", "/account/password"):
        assert redirects_to_login(client.get(path, headers=_bearer(admin_token))), path
    assert client.get("/api/v1/me", headers=_bearer(admin_token)).status_code == 200


def test_bearer_header_does_not_exempt_html_forms_from_csrf(
    people: People, client: FlaskClient, container: Container, ged: Ged
) -> None:
    admin_token = ged("token", "create", "admin").output.strip()
    before = snapshot(container)

    response = client.post(
        "/admin/units/new", data={"code": "API", "name": "Par l'API"}, headers=_bearer(admin_token)
    )

    assert response.status_code == 400
    assert snapshot(container) == before
    assert len(events(container, AuditAction.CSRF_REJECTED)) == 1


def test_api_post_with_a_bearer_token_skips_csrf_but_a_cookie_session_does_not(
    people: People, client: FlaskClient, auth: AuthActions, token: str, container: Container
) -> None:
    """There is no POST route yet: /api/v1/me answers 405 once past the CSRF check, so the
    status tells whether the check ran (400) or was skipped (405)."""
    with_bearer = client.post("/api/v1/me", headers=_bearer(token))
    auth.login("agent")
    hx_token(auth.client)  # the browser session has a CSRF secret
    with_cookie = auth.client.post("/api/v1/me")

    assert with_bearer.status_code == 405
    assert with_cookie.status_code == 400
    assert with_cookie.mimetype == "application/problem+json"
    assert len(events(container, AuditAction.CSRF_REJECTED)) == 1


def test_a_wrong_bearer_token_is_refused_even_with_a_valid_session_cookie(
    people: People, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")
    assert auth.client.get("/api/v1/me").status_code == 200  # the cookie alone works

    response = auth.client.get("/api/v1/me", headers=_bearer("ged_not-a-real-token"))

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert len(events(container, AuditAction.TOKEN_REJECTED)) == 1
