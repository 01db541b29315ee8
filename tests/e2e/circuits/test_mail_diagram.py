"""The circuit on the mail page: the diagram's container, its BPMN file, and the past steps."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from flask.testing import FlaskClient

from ged.services.mail import MailInput
from tests.e2e.conftest import redirects_to_login, text
from tests.integration.circuits.conftest import Office
from workflows.engine import bundled_definition

Login = Callable[[str], FlaskClient]


def diagram(html: str) -> dict[str, str]:
    """The data-* attributes of the page's (first) diagram container."""
    match = re.search(r'<div class="circuit-diagram"([^>]*)>', html)
    assert match, "no diagram container on the page"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', match.group(1)))


def test_the_mail_page_draws_the_circuit_with_its_current_step(
    office: Office, login: Login
) -> None:
    mail_id = office.register()

    page = login("agent").get(f"/mail/{mail_id}")

    html = page.get_data(as_text=True)
    attributes = diagram(html)
    assert page.status_code == 200
    assert attributes["current"] == "dispatch"
    assert attributes["done"] == ""
    assert re.fullmatch(rf"/mail/{mail_id}/circuits/\d+\.bpmn", attributes["bpmn-url"])
    assert "/static/vendor/bpmn-viewer.production.min.js" in html
    assert "/static/circuit.js" in html
    assert "/static/vendor/diagram-js.css" in html
    assert "Courrier arrivée" in text(page)
    assert "En cours" in text(page)


def test_past_steps_show_who_when_the_outcome_and_the_comment(office: Office, login: Login) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    office.container.tasks.complete(
        office.director,
        dispatch.id,
        "dispatch",
        {"addressed_unit": "SAU", "processing_deadline": 10},
        comment="Urgent : voir le plan joint.",
    )

    page = login("agent").get(f"/mail/{mail_id}")

    html = page.get_data(as_text=True)
    attributes = diagram(html)
    assert attributes["done"] == "dispatch"
    assert attributes["current"] == "process"
    row = html[html.index('data-step="dispatch"') :]
    row = text_of(row[: row.index("</tr>")])
    assert "Dispatcher le courrier" in row
    assert "Terminée" in row
    assert "Personne directeur" in row
    assert "Dispatcher" in row
    assert "Urgent : voir le plan joint." in row
    assert re.search(r"\d{2}/\d{2}/\d{4}", row)


def text_of(html: str) -> str:
    return unescape(html)


def test_a_step_comment_is_escaped(office: Office, login: Login) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    office.container.tasks.complete(
        office.director, dispatch.id, "file", comment='<script>alert("x")</script><b>gras</b>'
    )

    html = login("agent").get(f"/mail/{mail_id}").get_data(as_text=True)

    assert '<script>alert("x")</script>' not in html
    assert "<b>gras</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;" in html


def test_a_mail_without_a_circuit_has_no_diagram(office: Office, login: Login) -> None:
    registered = office.container.registry.register(
        office.clerk,
        MailInput("incoming", "Sans type", correspondent_name="Commune", unit_ids=(office.sau,)),
    )

    html = login("agent").get(f"/mail/{registered.id}").get_data(as_text=True)

    assert "circuit-diagram" not in html
    assert "bpmn-viewer" not in html


def test_the_bpmn_file_is_served_to_who_sees_the_mail(office: Office, login: Login) -> None:
    mail_id = office.register()
    url = diagram(login("agent").get(f"/mail/{mail_id}").get_data(as_text=True))["bpmn-url"]

    for username in ("agent", "chef", "directeur", "auditeur", "greffier", "admin"):
        response = login(username).get(url)
        assert response.status_code == 200, username
        assert response.data == bundled_definition("incoming_mail")
        assert response.mimetype == "application/xml"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_bpmn_file_is_refused_to_who_may_not_see_the_mail(
    office: Office, login: Login, client: FlaskClient
) -> None:
    mail_id = office.register()
    url = diagram(login("agent").get(f"/mail/{mail_id}").get_data(as_text=True))["bpmn-url"]
    instance_id = url.rsplit("/", 1)[1].removesuffix(".bpmn")
    stranger = login("etranger")
    own_mail = office.register(unit=office.other)

    assert stranger.get(url).status_code == 404
    assert stranger.get(f"/mail/{mail_id}").status_code == 404
    # An instance reached through another mail the stranger does see is still refused.
    assert stranger.get(f"/mail/{own_mail}/circuits/{instance_id}.bpmn").status_code == 404
    assert redirects_to_login(client.get(url))


def test_confidential_mail_diagram_is_for_named_people_only(office: Office, login: Login) -> None:
    mail_id = office.register(confidential=True, person_ids=(office.legal.user_id or 0,))
    url = f"/mail/{mail_id}/circuits/"
    page = login("juriste").get(f"/mail/{mail_id}")
    bpmn_url = diagram(page.get_data(as_text=True))["bpmn-url"]

    assert bpmn_url.startswith(url)
    assert login("juriste").get(bpmn_url).status_code == 200
    assert login("collegue").get(bpmn_url).status_code == 404


def test_the_circuit_section_uses_no_inline_style_or_script(office: Office, login: Login) -> None:
    mail_id = office.register()

    html = login("agent").get(f"/mail/{mail_id}").get_data(as_text=True)

    section = html[html.index('id="circuit"') :]
    assert " style=" not in section
    assert "<script>" not in section
    assert not re.search(r"<script(?![^>]*\bsrc=)", section)
