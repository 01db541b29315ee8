"""``GET /api/v1/search`` and ``/search/chrono``: results, facets, highlights, permissions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from ged.adapters.orm import MailDocument, PageText, Version
from ged.bootstrap import Container
from tests.e2e.api.conftest import Org, assert_problem, pdf, register


def with_text(
    container: Container, unit_ids: list[int], subject: str, text: str, **overrides: Any
) -> tuple[int, str]:
    """A mail with one scan whose OCR text is ``text``, indexed (jobs run at once in tests)."""
    registered = register(
        container, unit_ids, subject, files=[(pdf(subject), "scan.pdf")], **overrides
    )
    with container.writer() as uow:
        version_id = uow.session.execute(
            select(Version.id)
            .join(MailDocument, MailDocument.document_id == Version.document_id)
            .where(MailDocument.mail_id == registered.id)
        ).scalar_one()
        uow.session.add(PageText(version_id=version_id, page=1, text=text, language="fra"))
        uow.commit()
    container.jobs.enqueue("index_mail", registered.id)
    return registered.id, registered.chrono


def search(client: FlaskClient, org: Org, username: str = "agent", **params: object) -> Any:
    response = client.get("/api/v1/search", query_string=params, headers=org.headers(username))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_search_gives_items_total_facets_and_pages(
    client: FlaskClient, org: Org, container: Container
) -> None:
    first, chrono = with_text(
        container, [org.dg], "Lotissement Agdal", "Le pétitionnaire sollicite un lotissement"
    )
    second, _ = with_text(container, [org.dg], "Voirie", "lotissements de la zone nord")
    with_text(container, [org.dg], "Éclairage", "éclairage public du boulevard")

    body = search(client, org, q="lotissement", per_page=1)

    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 1)
    [item] = body["items"]
    assert set(item) == {"key", "kind", "id", "title", "chrono", "date", "score", "highlight"}
    assert item["kind"] == "mail"
    assert item["key"] == f"mail:{item['id']}"
    assert item["id"] in (first, second)
    assert item["score"] > 0
    dt.date.fromisoformat(item["date"])
    assert body["facets"]["unit"] == [{"value": str(org.dg), "count": 2}]
    assert body["facets"]["direction"] == [{"value": "incoming", "count": 2}]
    assert set(body["facets"]) == {"direction", "mail_type", "unit", "year", "status"}
    assert body["suggestion"] is None

    page_two = search(client, org, q="lotissement", per_page=1, page=2)
    assert {page_two["items"][0]["id"], item["id"]} == {first, second}

    # Arabic and accents: the analyzers of the index serve the API as they serve the page.
    assert search(client, org, q="eclairage")["total"] == 1
    by_chrono = search(client, org, q=f"chrono:{chrono}")
    assert [i["id"] for i in by_chrono["items"]] == [first]


def test_filters_and_sort(client: FlaskClient, org: Org, container: Container) -> None:
    old, _ = with_text(
        container, [org.dg], "Voirie", "voirie", mail_date=dt.date.today() - dt.timedelta(days=40)
    )
    new, _ = with_text(container, [org.dg], "Voirie", "voirie")

    newest = search(client, org, q="voirie", sort="-date")
    assert [i["id"] for i in newest["items"]] == [new, old]
    oldest = search(client, org, q="voirie", sort="date")
    assert [i["id"] for i in oldest["items"]] == [old, new]
    recent = search(
        client, org, q="voirie", date_from=(dt.date.today() - dt.timedelta(days=5)).isoformat()
    )
    assert [i["id"] for i in recent["items"]] == [new]
    assert search(client, org, q="voirie", direction="outgoing")["total"] == 0
    assert search(client, org, q="voirie", unit=org.dg, kind="mail")["total"] == 2


def test_highlight_is_escaped_html(client: FlaskClient, org: Org, container: Container) -> None:
    with_text(container, [org.dg], "XSS", "<script>alert(1)</script> lotissement")

    [item] = search(client, org, q="lotissement")["items"]

    assert "<script>" not in item["highlight"]
    assert "&lt;/script&gt;" in item["highlight"]
    assert "<mark" in item["highlight"]


def test_another_units_mail_never_appears(
    client: FlaskClient, org: Org, container: Container
) -> None:
    mine, _ = with_text(container, [org.dg], "Lotissement Agdal", "lotissement zone nord")
    _, theirs = with_text(container, [org.drh], "Lotissement Hassan", "lotissement contentieux")

    body = search(client, org, "agent", q="lotissement")

    assert [i["id"] for i in body["items"]] == [mine]
    assert body["total"] == 1
    assert body["facets"]["unit"] == [{"value": str(org.dg), "count": 1}]
    assert all(f["count"] == 1 for counts in body["facets"].values() for f in counts)
    assert "contentieux" not in str(body)
    # Nor through a suggestion, a filter on the other unit or the chrono lookup.
    assert search(client, org, "agent", q="contentieu")["suggestion"] is None
    assert search(client, org, "agent", unit=org.drh)["total"] == 0
    response = client.get(
        "/api/v1/search/chrono", query_string={"prefix": theirs}, headers=org.headers("agent")
    )
    assert response.status_code == 200
    assert response.get_json() == []
    # The other unit's agent and the auditor do find it.
    assert search(client, org, "outsider", q="contentieux")["total"] == 1
    assert search(client, org, "auditor", q="lotissement")["total"] == 2


def test_chrono_lookup_as_you_type(client: FlaskClient, org: Org, container: Container) -> None:
    mail, chrono = with_text(container, [org.dg], "Voirie", "voirie")

    response = client.get(
        "/api/v1/search/chrono", query_string={"prefix": chrono[:-1]}, headers=org.headers("agent")
    )

    assert response.status_code == 200
    [item] = response.get_json()
    assert (item["id"], item["chrono"], item["title"]) == (mail, chrono, "Voirie")
    short = client.get(
        "/api/v1/search/chrono", query_string={"prefix": "A"}, headers=org.headers("agent")
    )
    assert short.get_json() == []


def test_overlong_query_is_a_problem_in_french(client: FlaskClient, org: Org) -> None:
    response = client.get(
        "/api/v1/search", query_string={"q": "lotissement " * 50}, headers=org.headers("agent")
    )

    body = assert_problem(response, 400)
    assert "trop longue" in body["detail"]


def test_search_needs_a_token(client: FlaskClient, org: Org) -> None:
    for url in ("/api/v1/search?q=lotissement", "/api/v1/search/chrono?prefix=A-"):
        assert_problem(client.get(url), 401)
        assert_problem(client.get(url, headers={"Authorization": "Bearer nope"}), 401)


def test_unknown_or_bad_parameters_are_refused(client: FlaskClient, org: Org) -> None:
    def refused(url: str, **params: object) -> dict[str, list[str]]:
        response = client.get(url, query_string=params, headers=org.headers("agent"))
        errors: dict[str, list[str]] = assert_problem(response, 422)["errors"]
        return errors

    assert "owner_id" in refused("/api/v1/search", q="x", owner_id=1)
    assert "per_page" in refused("/api/v1/search", per_page=101)
    assert "sort" in refused("/api/v1/search", sort="score")
    assert "date_from" in refused("/api/v1/search", date_from="hier")
    assert "from" in refused("/api/v1/search/chrono", prefix="A-", **{"from": "x"})
    assert "prefix" in refused("/api/v1/search/chrono")


def test_openapi_lists_both_routes(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()

    for path in ("/api/v1/search", "/api/v1/search/chrono"):
        operation = spec["paths"][path]["get"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert "401" in operation["responses"] or "default" in operation["responses"]
    parameters = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert parameters >= {"q", "kind", "direction", "mail_type", "unit", "status", "year"}
    assert parameters >= {"date_from", "date_to", "sort", "page", "per_page"}
