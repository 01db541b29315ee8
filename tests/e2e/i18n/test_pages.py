"""An Arabic-speaking person gets every main page in Arabic, right to left; French is unchanged."""

from __future__ import annotations

import pytest
from babel.dates import format_date
from flask.testing import FlaskClient

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import Builders
from tests.e2e.conftest import events, text
from tests.e2e.i18n.conftest import (
    LETTER_DATE,
    Agency,
    catalogue,
    html_tag,
    logged_in,
    visible_texts,
)

ARABIC_PAGES = (
    "/",
    "/tasks/",
    "/tasks/?tab=pool",
    "/mail/",
    "/mail/new",
    "/search/?q=autorisation",
    "/documents/",
    "/documents/plan",
    "/dashboard/",
    "/notifications/",
    "/notifications/preferences",
    "/capture/",
    "/admin/units",
    "/admin/users",
    "/admin/circuits",
    "/admin/holidays",
    "/admin/units/new",
    "/admin/users/new",
    "/documents/new",
    "/account/language",
    "/account/password",
)


def _untranslated(page: str, translations: dict[str, str]) -> list[str]:
    """French interface strings shown as they are: a text node equal to a translated msgid."""
    french = {msgid for msgid, msgstr in translations.items() if msgstr != msgid}
    return [shown for shown in visible_texts(page) if shown in french]


@pytest.mark.parametrize("path", ARABIC_PAGES)
def test_an_arabic_user_reads_the_page_in_arabic_right_to_left(
    agency: Agency, client: FlaskClient, path: str
) -> None:
    logged_in(client, "mudir")
    response = client.get(path)
    assert response.status_code == 200, path
    page = text(response)
    tag = html_tag(page)
    assert 'lang="ar"' in tag
    assert 'dir="rtl"' in tag
    assert "bootstrap.rtl.min.css" in page
    assert not _untranslated(page, catalogue("ar")), _untranslated(page, catalogue("ar"))
    assert "تسجيل الخروج" in page  # the navigation bar: "Se déconnecter"


def test_the_mail_page_is_in_arabic_with_arabic_dates(agency: Agency, client: FlaskClient) -> None:
    logged_in(client, "mudir")
    page = text(client.get(f"/mail/{agency.mail_id}"))
    assert 'dir="rtl"' in html_tag(page)
    assert not _untranslated(page, catalogue("ar"))
    assert "تاريخ الرسالة" in page  # "Date de la lettre"
    assert format_date(LETTER_DATE, "short", locale="ar_MA") in page
    assert "09/03/2026" not in page
    # What people wrote stays as written.
    assert "Demande d'autorisation de construire" in page


def test_the_registrar_form_has_arabic_labels_and_field_errors(
    agency: Agency, client: FlaskClient
) -> None:
    logged_in(client, "katib")
    page = text(client.get("/mail/new"))
    assert '<label class="form-label" for="subject">الموضوع</label>' in page
    assert not _untranslated(page, catalogue("ar"))


def test_a_french_user_is_unchanged(agency: Agency, client: FlaskClient) -> None:
    logged_in(client, "admin")
    home = text(client.get("/"))
    tag = html_tag(home)
    assert 'lang="fr"' in tag
    assert 'dir="ltr"' in tag
    assert "bootstrap.min.css" in home
    assert "rtl" not in home.split("</head>")[0]
    assert "Se déconnecter" in home
    page = text(client.get(f"/mail/{agency.mail_id}"))
    assert "Date de la lettre" in page
    assert "09/03/2026" in page


def test_an_arabic_error_page(agency: Agency, client: FlaskClient) -> None:
    logged_in(client, "mudir")
    response = client.get("/mail/999999")
    assert response.status_code == 404
    page = text(response)
    assert 'dir="rtl"' in html_tag(page)
    assert "خطأ 404" in page


# --- before logging in ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "direction", "button"),
    [
        ("ar-MA,ar;q=0.9,fr;q=0.5", "ar", "rtl", "تسجيل الدخول"),
        ("fr-FR,fr;q=0.9", "fr", "ltr", "Se connecter"),
        ("en-GB,en;q=0.9", "fr", "ltr", "Se connecter"),  # neither: French
        ("de;q=0.8,ar;q=0.3", "ar", "rtl", "تسجيل الدخول"),
    ],
)
def test_the_login_page_follows_accept_language(
    client: FlaskClient, accept: str, lang: str, direction: str, button: str
) -> None:
    page = text(client.get("/login", headers={"Accept-Language": accept}))
    tag = html_tag(page)
    assert f'lang="{lang}"' in tag
    assert f'dir="{direction}"' in tag
    assert button in page
    assert 'id="language-switch"' in page


def _switch_token(client: FlaskClient) -> str:
    from tests.conftest import csrf_token

    return csrf_token(text(client.get("/login")))


def test_the_language_switch_is_kept_for_the_visit(client: FlaskClient) -> None:
    token = _switch_token(client)
    response = client.post(
        "/language",
        data={"locale": "ar", "next": "/login", "csrf_token": token},
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/login")
    page = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert 'dir="rtl"' in html_tag(page)
    assert "تسجيل الدخول" in page
    client.post("/language", data={"locale": "fr", "csrf_token": _switch_token(client)})
    assert 'dir="ltr"' in html_tag(text(client.get("/login", headers={"Accept-Language": "ar"})))


def test_the_language_switch_needs_the_csrf_token(client: FlaskClient) -> None:
    response = client.post("/language", data={"locale": "ar"})
    assert response.status_code == 400
    page = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert 'dir="ltr"' in html_tag(page)


def test_the_language_switch_refuses_other_languages_and_foreign_targets(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/language",
        data={"locale": "en", "next": "//evil.example/", "csrf_token": _switch_token(client)},
    )
    assert response.status_code == 303
    assert "evil.example" not in response.headers["Location"]
    assert 'dir="ltr"' in html_tag(text(client.get("/login")))


# --- the person's own preference ------------------------------------------------------------


def test_a_person_chooses_arabic_and_the_change_is_audited(
    agency: Agency, client: FlaskClient, container: Container
) -> None:
    from tests.e2e.conftest import form_token

    logged_in(client, "admin")
    before = len(events(container, AuditAction.USER_UPDATED))
    token = form_token(client, "/account/language")
    response = client.post("/account/language", data={"locale": "ar", "csrf_token": token})
    assert response.status_code == 303
    page = text(client.get("/account/language"))
    assert 'dir="rtl"' in html_tag(page)
    assert "سجلت لغتكم." in page  # the confirmation, already in the new language
    with container.reader() as uow:
        from ged.adapters.orm import User

        assert uow.session.get(User, agency.admin_fr).locale == "ar"  # type: ignore[union-attr]
    updated = events(container, AuditAction.USER_UPDATED)
    assert len(updated) == before + 1
    assert updated[-1].details == {"locale": ["fr", "ar"]}
    assert updated[-1].actor_id == agency.admin_fr


def test_the_preference_needs_the_csrf_token(
    agency: Agency, client: FlaskClient, container: Container
) -> None:
    logged_in(client, "admin")
    before = len(events(container, AuditAction.USER_UPDATED))
    response = client.post("/account/language", data={"locale": "ar"})
    assert response.status_code == 400
    assert 'dir="ltr"' in html_tag(text(client.get("/")))
    assert len(events(container, AuditAction.USER_UPDATED)) == before


def test_the_preference_refuses_an_unknown_language(
    agency: Agency, client: FlaskClient, container: Container
) -> None:
    from tests.e2e.conftest import form_token

    logged_in(client, "admin")
    token = form_token(client, "/account/language")
    response = client.post("/account/language", data={"locale": "en", "csrf_token": token})
    assert response.status_code == 400
    assert 'dir="ltr"' in html_tag(text(client.get("/")))


def test_the_language_preference_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/account/language")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_document_page_in_arabic(agency: Agency, build: Builders, client: FlaskClient) -> None:
    document_id = build.document(title="Plan d'aménagement")
    logged_in(client, "mudir")
    page = text(client.get(f"/documents/{document_id}"))
    assert 'dir="rtl"' in html_tag(page)
    assert not _untranslated(page, catalogue("ar"))
    assert "الصيغ" in page  # "Versions"


def test_field_errors_speak_the_page_s_language(client: FlaskClient) -> None:
    from tests.conftest import csrf_token

    for accept, error in (("ar", "هذا الحقل مطلوب."), ("fr", "Ce champ est requis.")):
        headers = {"Accept-Language": accept}
        token = csrf_token(text(client.get("/login", headers=headers)))
        response = client.post(
            "/login", data={"username": "", "password": "", "csrf_token": token}, headers=headers
        )
        assert response.status_code == 400
        assert error in text(response)


def test_the_login_reminder_is_flashed_in_the_browser_s_language(client: FlaskClient) -> None:
    response = client.get("/mail/", headers={"Accept-Language": "ar"})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"], headers={"Accept-Language": "ar"}))
    assert "سجلوا الدخول للولوج إلى هذه الصفحة." in page
