"""``GET /api/v1/mail``: filters, sort and pagination in the body, under the caller's rights."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from ged.bootstrap import Container
from tests.builders import SYSTEM
from tests.e2e.api.conftest import Org, assert_problem, days_ago, register


def listing(client: FlaskClient, org: Org, username: str = "registrar", **params: object):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/mail", query_string=params, headers=org.headers(username))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def subjects(body: dict[str, list[dict[str, object]]]) -> list[object]:
    return [item["subject"] for item in body["items"]]


def test_list_gives_items_total_and_page_information(
    client: FlaskClient, org: Org, container: Container
) -> None:
    registered = [register(container, [org.dg], f"Courrier {n}") for n in range(1, 6)]

    body = listing(client, org, per_page=2, page=2, sort="chrono")

    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (5, 2, 2, 3)
    assert subjects(body) == ["Courrier 3", "Courrier 4"]
    item = body["items"][0]
    assert item["chrono"] == registered[2].chrono
    assert item["id"] == registered[2].id
    assert item["units"] == ["DG"]
    assert item["correspondent"]["name"] == "Société Atlas"
    assert item["status"] == "registered"
    assert item["overdue"] is False


def test_default_order_is_newest_first(client: FlaskClient, org: Org, container: Container) -> None:
    for n in range(1, 4):
        register(container, [org.dg], f"Courrier {n}")

    assert subjects(listing(client, org)) == ["Courrier 3", "Courrier 2", "Courrier 1"]
    assert subjects(listing(client, org, sort="registered")) == [
        "Courrier 1",
        "Courrier 2",
        "Courrier 3",
    ]


def test_page_past_the_end_is_empty_but_keeps_the_total(
    client: FlaskClient, org: Org, container: Container
) -> None:
    register(container, [org.dg])

    body = listing(client, org, page=9)

    assert (body["items"], body["total"], body["pages"]) == ([], 1, 1)


def test_filters_by_direction_unit_type_dates_and_text(
    client: FlaskClient, org: Org, container: Container
) -> None:
    type_id = container.registry.create_mail_type(SYSTEM, "REC", "Réclamation", 10)
    register(container, [org.dg], "Arrivée DG", mail_date=days_ago(container, 10))
    register(container, [org.dg_sub], "Arrivée cellule", mail_type_id=type_id)
    register(container, [org.drh], "Arrivée DRH", sender_reference="MIN-2026-44")
    register(container, [], "Départ", direction="outgoing")

    assert subjects(listing(client, org, direction="outgoing")) == ["Départ"]
    assert sorted(subjects(listing(client, org, unit_id=org.dg))) == [
        "Arrivée DG",
        "Arrivée cellule",
    ]
    assert subjects(listing(client, org, unit_id=org.drh)) == ["Arrivée DRH"]
    assert subjects(listing(client, org, mail_type_id=type_id)) == ["Arrivée cellule"]
    assert subjects(listing(client, org, date_to=days_ago(container, 5).isoformat())) == [
        "Arrivée DG"
    ]
    assert "Arrivée DG" not in subjects(
        listing(client, org, date_from=days_ago(container, 5).isoformat())
    )
    assert subjects(listing(client, org, q="min-2026")) == ["Arrivée DRH"]
    assert subjects(listing(client, org, q="cellule")) == ["Arrivée cellule"]
    assert listing(client, org, status="answered")["total"] == 0


def test_overdue_filter_lists_open_mail_past_its_due_date(
    client: FlaskClient, org: Org, container: Container
) -> None:
    type_id = container.registry.create_mail_type(SYSTEM, "URG", "Urgent", 1)
    register(
        container, [org.dg], "En retard", mail_type_id=type_id, mail_date=days_ago(container, 30)
    )
    register(container, [org.dg], "Dans les temps", mail_type_id=type_id)

    body = listing(client, org, overdue="true")

    assert subjects(body) == ["En retard"]
    assert body["items"][0]["overdue"] is True
    assert body["items"][0]["mail_type"]["code"] == "URG"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 201}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"direction": "sideways"}, "direction"),
        ({"status": "lost"}, "status"),
        ({"sort": "subject"}, "sort"),
        ({"date_from": "hier"}, "date_from"),
        ({"unit_id": "DG"}, "unit_id"),
        ({"q": "x" * 201}, "q"),
        ({"unit": "1"}, "unit"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else "-".join(map(str, v)),
)
def test_invalid_or_unknown_query_parameters_are_refused(
    client: FlaskClient, org: Org, params: dict[str, object], field: str
) -> None:
    response = client.get("/api/v1/mail", query_string=params, headers=org.headers("registrar"))

    body = assert_problem(response, 422)
    assert list(body["errors"]) == [field]


# --- who sees what ------------------------------------------------------------------------


def test_agent_of_another_unit_sees_neither_the_mail_nor_its_count(
    client: FlaskClient, org: Org, container: Container
) -> None:
    register(container, [org.dg], "Pour la DG")
    register(container, [org.dg_sub], "Pour la cellule")
    register(container, [org.drh], "Pour la DRH")

    outsider = listing(client, org, "outsider")
    agent = listing(client, org, "agent")

    assert (subjects(outsider), outsider["total"]) == (["Pour la DRH"], 1)
    assert sorted(subjects(agent)) == ["Pour la DG", "Pour la cellule"]
    assert agent["total"] == 2
    # Filtering on a unit one may not see finds nothing rather than revealing a count.
    assert listing(client, org, "outsider", unit_id=org.dg)["total"] == 0


def test_confidential_mail_is_listed_only_for_the_people_named_on_it(
    client: FlaskClient, org: Org, container: Container
) -> None:
    register(container, [org.dg], "Confidentiel", confidential=True, person_ids=(org.outsider,))
    register(container, [org.dg], "Ordinaire")

    assert subjects(listing(client, org, "agent")) == ["Ordinaire"]
    assert subjects(listing(client, org, "registrar")) == ["Ordinaire"]
    assert subjects(listing(client, org, "outsider")) == ["Confidentiel"]
    assert listing(client, org, "auditor")["total"] == 2


def test_list_query_count_does_not_grow_with_the_page(
    client: FlaskClient, org: Org, container: Container
) -> None:
    type_id = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)

    def statements_for_one_page() -> int:
        count = 0

        def counted(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(container.engine, "before_cursor_execute", counted)
        try:
            listing(client, org, "agent", per_page=50)
        finally:
            event.remove(container.engine, "before_cursor_execute", counted)
        return count

    register(container, [org.dg], mail_type_id=type_id)
    listing(client, org, "agent")  # the token's first use is recorded once, then not again
    one = statements_for_one_page()
    for n in range(20):
        register(container, [org.dg, org.dg_sub], f"Courrier {n}", mail_type_id=type_id)

    assert statements_for_one_page() == one
