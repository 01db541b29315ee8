"""Every API route needs a bearer token or a session; the OpenAPI document lists them all."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.conftest import AuthActions
from tests.e2e.api.conftest import Org, assert_problem, incoming, register, state

ROUTES = [
    ("GET", "/api/v1/mail"),
    ("POST", "/api/v1/mail"),
    ("GET", "/api/v1/mail/{mail}"),
    ("GET", "/api/v1/documents/{document}/content"),
    ("GET", "/api/v1/mail-types"),
    ("GET", "/api/v1/units"),
    ("GET", "/api/v1/correspondents?q=atlas"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ged_not-a-token", "Basic cmVnaXN0cmFyOnB3"],
    ids=["none", "unknown-token", "basic"],
)
def test_route_refuses_a_caller_without_a_valid_token_with_401(
    client: FlaskClient,
    org: Org,
    container: Container,
    method: str,
    path: str,
    authorization: str | None,
) -> None:
    mail = register(container, [org.dg], files=[(b"%PDF-1.4 x", "a.pdf")])
    url = path.format(mail=mail.id, document=1)
    headers = {"Authorization": authorization} if authorization else {}
    before = state(container)

    response = client.open(url, method=method, headers=headers, data=incoming(org))

    body = assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "jeton" in body["detail"].lower()
    assert state(container) == before


def test_browser_session_reads_the_api_and_needs_csrf_to_write(
    client: FlaskClient, org: Org, auth: AuthActions
) -> None:
    auth.login("registrar")

    assert client.get("/api/v1/mail").status_code == 200
    refused = client.post("/api/v1/mail", data=incoming(org))
    assert_problem(refused, 400)
    assert refused.get_json()["title"] == "csrf"


OPERATIONS = {
    ("/api/v1/mail", "get"),
    ("/api/v1/mail", "post"),
    ("/api/v1/mail/{mail_id}", "get"),
    ("/api/v1/documents/{document_id}/content", "get"),
    ("/api/v1/mail-types", "get"),
    ("/api/v1/units", "get"),
    ("/api/v1/correspondents", "get"),
    ("/api/v1/me", "get"),
    ("/api/v1/search", "get"),
    ("/api/v1/search/chrono", "get"),
}


def test_openapi_document_lists_every_operation_with_schemas(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()

    operations = {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations == OPERATIONS
    for path, method in operations:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": []}], (path, method)
        assert operation["summary"], (path, method)
    schemas = spec["components"]["schemas"]
    for name in ("MailCreate", "Registered", "MailPage", "MailSummary", "MailDetail", "Problem"):
        assert name in schemas, name

    post = spec["paths"]["/api/v1/mail"]["post"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body == {"$ref": "#/components/schemas/MailCreate"}
    create = schemas["MailCreate"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"direction", "subject"}
    assert create["properties"]["files"]["items"] == {"type": "string", "format": "binary"}
    assert create["properties"]["unit_ids"]["type"] == "array"
    for forbidden in ("chrono", "status", "registered_by_id", "owner_id", "role", "year", "number"):
        assert forbidden not in create["properties"]
    assert "201" in post["responses"]
    assert "Location" in post["responses"]["201"]["headers"]

    listing = spec["paths"]["/api/v1/mail"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "direction",
        "status",
        "unit_id",
        "mail_type_id",
        "date_from",
        "date_to",
        "overdue",
        "q",
        "sort",
        "page",
        "per_page",
    }
    [per_page] = [p for p in listing["parameters"] if p["name"] == "per_page"]
    assert per_page["schema"]["maximum"] == 200

    errors = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert errors == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
