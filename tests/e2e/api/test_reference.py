"""Reference data for API clients: mail types, units, correspondent autocomplete."""

from __future__ import annotations

from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.builders import SYSTEM
from tests.e2e.api.conftest import Org, assert_problem, register


def test_mail_types_list_the_active_types_with_their_delay(
    client: FlaskClient, org: Org, container: Container
) -> None:
    container.registry.create_mail_type(SYSTEM, "rec", "Réclamation", 15, name_ar="شكاية")
    container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)

    response = client.get("/api/v1/mail-types", headers=org.headers("agent"))

    assert response.status_code == 200
    assert [(t["code"], t["name"], t["delay_days"]) for t in response.get_json()] == [
        ("DEM", "Demande", 10),
        ("REC", "Réclamation", 15),
    ]
    assert response.get_json()[1]["name_ar"] == "شكاية"


def test_units_list_the_org_chart(client: FlaskClient, org: Org) -> None:
    response = client.get("/api/v1/units", headers=org.headers("agent"))

    units = {u["code"]: u for u in response.get_json()}
    assert set(units) >= {"DG", "DGSUB", "DRH"}
    assert units["DGSUB"]["parent_id"] == org.dg
    assert units["DG"]["name"] == "Direction générale"


def test_correspondents_autocomplete_puts_prefix_matches_first(
    client: FlaskClient, org: Org, container: Container
) -> None:
    for name in ("Banque Atlas", "Atlas Assurances", "Office national"):
        register(container, [org.dg], correspondent_name=name)

    def find(q: str) -> list[str]:
        response = client.get(
            "/api/v1/correspondents", query_string={"q": q}, headers=org.headers("agent")
        )
        assert response.status_code == 200
        return [c["name"] for c in response.get_json()]

    assert find("atlas") == ["Atlas Assurances", "Banque Atlas"]
    assert find("a") == []
    assert find("100%_") == []


def test_correspondents_need_a_query(client: FlaskClient, org: Org) -> None:
    response = client.get("/api/v1/correspondents", headers=org.headers("agent"))

    assert assert_problem(response, 422)["errors"] == {"q": ["Champ obligatoire."]}
