"""The bell, the notifications page, marking read (CSRF required) and the digest preference."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.conftest import AuthActions
from tests.e2e.conftest import form_token, redirects_to_login, text
from tests.integration.circuits.conftest import Office, make_office
from tests.integration.notifications.conftest import notifications_of

COUNT = re.compile(r'id="notification-count">(\d+\+?)<')


def bell(client: FlaskClient) -> str:
    match = COUNT.search(client.get("/").get_data(as_text=True))
    return match.group(1) if match else ""


def two_notes(container: Container) -> tuple[Office, list[int]]:
    office = make_office(container)
    office.register("Premier courrier")
    office.register("Second courrier")
    return office, [n.id for n in notifications_of(container, office.director.user_id)]


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    for path in ("/notifications/", "/notifications/preferences"):
        assert redirects_to_login(client.get(path))


def test_the_bell_counts_unread_notifications(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office, _ids = two_notes(container)
    auth.login("directeur")

    assert bell(client) == "2"
    page = text(client.get("/notifications/"))
    assert "Nouvelle tâche : « Dispatcher le courrier »" in page
    assert "2 non lues" in page
    office.register("Troisième")
    assert bell(client) == "3"


def test_marking_read_needs_the_csrf_token(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    _office, [first, _second] = two_notes(container)
    auth.login("directeur")

    refused = client.post(f"/notifications/{first}/read")
    assert refused.status_code == 400
    assert bell(client) == "2"

    token = form_token(client, "/notifications/")
    done = client.post(f"/notifications/{first}/read", data={"csrf_token": token})
    assert done.status_code == 303
    assert bell(client) == "1"

    assert client.post("/notifications/read").status_code == 400
    assert bell(client) == "1"
    token = form_token(client, "/notifications/")
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    assert bell(client) == ""
    assert "aucune non lue" in text(client.get("/"))


def test_nobody_marks_someone_elses_notification(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    _office, [first, _second] = two_notes(container)
    auth.login("chef")
    token = form_token(client, "/notifications/")

    response = client.post(f"/notifications/{first}/read", data={"csrf_token": token})

    assert response.status_code == 404
    assert "Dispatcher" not in text(client.get("/notifications/"))
    assert all(n.read_at is None for n in notifications_of(container, _office.director.user_id))


def test_a_person_switches_the_daily_digest_off_and_on(
    client: FlaskClient, auth: AuthActions, container: Container
) -> None:
    office = make_office(container)
    auth.login("agent")
    preferences = container.notifications.preferences

    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert "checked" in page.get_data(as_text=True)
    assert client.post("/notifications/preferences", data={}).status_code == 400
    assert preferences(office.agent).digest_enabled

    token = form_token(client, "/notifications/preferences")
    response = client.post("/notifications/preferences", data={"csrf_token": token})
    assert response.status_code == 303
    assert not preferences(office.agent).digest_enabled

    token = form_token(client, "/notifications/preferences")
    client.post("/notifications/preferences", data={"csrf_token": token, "digest_enabled": "y"})
    assert preferences(office.agent).digest_enabled
