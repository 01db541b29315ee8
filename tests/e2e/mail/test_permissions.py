"""Who sees which mail through the pages: lists, counts, pages, receipts, posts; nothing leaks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import form_token, redirects_to_login, snapshot, text
from tests.e2e.mail.conftest import (
    Office,
    mail_row,
    pdf,
    register,
    upload,
)


@dataclass(frozen=True)
class Mails:
    urba: int  # incoming to URB
    permits: int  # incoming to PRM, below URB
    legal: int  # incoming to JUR
    secret: int  # confidential, to URB, naming the legal agent
    answer: int  # outgoing, to no unit


@pytest.fixture
def mails(office: Office, build: Builders, container: Container) -> Mails:
    def reg(**fields: object) -> int:
        return register(container, build, office.registrar, **fields).id  # type: ignore[arg-type]

    return Mails(
        urba=reg(subject="Courrier de l'urbanisme", unit_ids=(office.urba,)),
        permits=reg(subject="Courrier des autorisations", unit_ids=(office.permits,)),
        legal=reg(subject="Courrier du juridique", unit_ids=(office.legal,)),
        secret=reg(
            subject="Contentieux confidentiel",
            unit_ids=(office.urba,),
            confidential=True,
            person_ids=(office.legal_agent,),
        ),
        answer=reg(direction="outgoing", subject="Réponse du bureau d'ordre"),
    )


def listed(auth: AuthActions, container: Container, mails: Mails) -> set[str]:
    html = text(auth.client.get("/mail/?per_page=200"))
    names = {"urba", "permits", "legal", "secret", "answer"}
    return {n for n in names if mail_row(container, getattr(mails, n)).chrono in html}


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("agent", {"urba", "permits"}),  # own unit and the units below it, not the secret
        ("permits", {"permits"}),  # not the parent unit's mail
        ("legal", {"legal", "secret"}),  # named on the confidential mail
        ("registrar", {"urba", "permits", "legal", "secret", "answer"}),  # registered them all
        ("admin", {"urba", "permits", "legal", "answer"}),  # confidential: by name only
        ("auditor", {"urba", "permits", "legal", "secret", "answer"}),  # reads everything
    ],
)
def test_each_person_lists_counts_and_opens_only_the_mail_they_may_see(
    username: str, visible: set[str], mails: Mails, auth: AuthActions, container: Container
) -> None:
    auth.login(username)

    shown = listed(auth, container, mails)
    count = text(auth.client.get("/mail/"))

    assert shown == visible
    word = "courriers" if len(visible) > 1 else "courrier"
    assert f"{len(visible)} {word}" in count
    for name in ("urba", "permits", "legal", "secret", "answer"):
        mail_id = getattr(mails, name)
        expected = 200 if name in visible else 404
        assert auth.client.get(f"/mail/{mail_id}").status_code == expected, name
        if name != "answer":
            receipt = auth.client.get(f"/mail/{mail_id}/receipt.pdf")
            assert receipt.status_code == expected, name


def test_hidden_mail_cannot_be_found_by_its_chrono_or_subject(
    mails: Mails, auth: AuthActions, container: Container
) -> None:
    chrono = mail_row(container, mails.legal).chrono
    auth.login("agent")

    by_chrono = auth.client.get("/mail/", query_string={"q": chrono})
    by_subject = auth.client.get("/mail/", query_string={"q": "juridique"})

    for page in (by_chrono, by_subject):
        assert "0 courrier" in text(page)
        assert "data-mail=" not in page.get_data(as_text=True)


def test_agent_of_another_unit_cannot_comment_attach_or_link(
    mails: Mails, office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("legal")
    token = form_token(auth.client, f"/mail/{mails.legal}")
    before = snapshot(container)
    chrono = mail_row(container, mails.answer).chrono

    responses = [
        auth.client.post(
            f"/mail/{mails.urba}/comments", data={"csrf_token": token, "body": "Intrusion"}
        ),
        auth.client.post(
            f"/mail/{mails.urba}/files",
            data={"csrf_token": token, "files": [upload("x.pdf", pdf())]},
            content_type="multipart/form-data",
        ),
        auth.client.post(f"/mail/{mails.urba}/link", data={"csrf_token": token, "chrono": chrono}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert snapshot(container) == before


def test_confidential_mail_is_not_suggested_as_an_answer_to_people_not_named(
    mails: Mails, auth: AuthActions, container: Container
) -> None:
    auth.login("admin")
    secret = mail_row(container, mails.secret).chrono

    page = auth.client.get("/mail/new", query_string={"direction": "outgoing"})
    token = form_token(auth.client, "/mail/new")
    refused = auth.client.post(
        "/mail/new",
        data={
            "csrf_token": token,
            "direction": "outgoing",
            "subject": "Réponse",
            "correspondent": "Cabinet",
            "priority": "normal",
            "channel": "post",
            "answer_to": secret,
        },
        content_type="multipart/form-data",
    )

    assert page.status_code == 200
    assert refused.status_code == 400
    assert f"Aucun courrier arrivée ne porte le numéro « {secret} »." in text(refused)


def test_anonymous_visitor_is_sent_to_the_login_page_everywhere(
    mails: Mails, client: FlaskClient
) -> None:
    for path in (
        "/mail/",
        "/mail/new",
        f"/mail/{mails.urba}",
        f"/mail/{mails.urba}/receipt.pdf",
        "/mail/export?direction=incoming&from=2026-01-01&to=2026-12-31&format=csv",
        "/mail/correspondents?q=commune",
    ):
        assert redirects_to_login(client.get(path)), path
