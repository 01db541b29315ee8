"""Downloads and previews: RFC 6266 names, safe headers, inline only for what a browser shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM
from tests.e2e.conftest import People, events
from tests.e2e.documents.conftest import (
    PDF,
    Library,
    create_as,
    disposition,
    fetch,
    image_bytes,
    versions_of,
)

# (name sent, name the user gets back): paths, controls and bidi overrides are dropped, the
# rest (Arabic, quotes, spaces) is kept and sent back through `filename*`.
HOSTILE_NAMES = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("/var/lib/ged/secret.pdf", "secret.pdf"),
    ("nul\x00byte.pdf", "nulbyte.pdf"),
    ("facture\u202efdp.exe", "facturefdp.exe"),
    ("رسالة رسمية.pdf", "رسالة رسمية.pdf"),
    ("Éloïse l'été.pdf", "Éloïse l'été.pdf"),
    ("a" * 296 + ".pdf", "a" * 251 + ".pdf"),
    ("..", "document"),
]
# Names stored as they came, not cleaned: what the API or an import might have let through
# (a browser form escapes quotes and line breaks itself). The header must stay valid anyway.
RAW_NAMES = [
    ('rapport "final"; filename=x.exe.pdf', 'rapport "final"; filename=x.exe.pdf'),
    ("a\r\nSet-Cookie: x=1.pdf", "aSet-Cookie: x=1.pdf"),
    ("C:\\Users\\x\\rapport.pdf", "rapport.pdf"),
    ("100%25 sûr\\..\\..pdf", "pdf"),
    ("\u202e\u200f\t.pdf", "pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("nul\x00byte.pdf", "nulbyte.pdf"),
    ("facture\u202efdp.exe", "facturefdp.exe"),
    ("رسالة رسمية.pdf", "رسالة رسمية.pdf"),
    ("ا" * 300, "ا" * 255),  # the service keeps 255 characters of a name
]


def assert_safe_file_response(response: TestResponse, size: int) -> None:
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(size)
    assert "no-store" in response.headers["Cache-Control"]
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;")
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(("sent", "expected"), HOSTILE_NAMES)
def test_download_name_from_the_form_is_cleaned_and_sent_back_with_rfc6266(
    people: People, login: Callable[[str], Library], sent: str, expected: str
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF, sent)

    response = fetch(agent.client, f"/documents/{document_id}/download")

    assert_safe_file_response(response, len(PDF))
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    got = disposition(response)
    assert got.kind == "attachment"
    assert got.name == expected
    assert len(got.name) <= 255
    assert "/" not in got.fallback
    assert got.fallback.isascii()


@pytest.mark.parametrize(("raw", "expected"), RAW_NAMES)
def test_download_header_stays_valid_whatever_name_is_stored(
    people: People, login: Callable[[str], Library], container: Container, raw: str, expected: str
) -> None:
    document_id = create_as(container, SYSTEM, name=raw)
    agent = login("agent")

    response = fetch(agent.client, f"/documents/{document_id}/download")

    assert_safe_file_response(response, len(PDF))
    got = disposition(response)
    assert got.kind == "attachment"
    assert got.name == expected
    assert not any(c in got.name for c in "/\\\x00\r\n\u202e")


def test_ascii_fallback_keeps_what_it_can(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    arabic = create_as(container, SYSTEM, name="رسالة.pdf")
    french = create_as(container, SYSTEM, name="Éloïse d'été (v2).pdf")

    assert disposition(fetch(agent.client, f"/documents/{arabic}/download")).fallback == (
        "document.pdf"
    )
    assert disposition(fetch(agent.client, f"/documents/{french}/download")).fallback == (
        "Eloise d_ete (v2).pdf"
    )


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [
        (PDF, "lettre.pdf", "application/pdf"),
        (image_bytes("PNG"), "scan.png", "image/png"),
        (image_bytes("JPEG"), "photo.jpg", "image/jpeg"),
    ],
)
def test_preview_shows_pdf_and_images_inline_under_a_sandbox(
    people: People, login: Callable[[str], Library], content: bytes, name: str, media_type: str
) -> None:
    agent = login("agent")
    document_id = agent.create(content, name)

    response = fetch(agent.client, f"/documents/{document_id}/preview")

    assert_safe_file_response(response, len(content))
    assert response.data == content
    assert response.mimetype == media_type
    assert disposition(response) == disposition(response).__class__("inline", name, name)
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy
    assert "img-src 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_preview_of_a_type_browsers_cannot_show_is_a_download(
    people: People, login: Callable[[str], Library]
) -> None:
    agent = login("agent")
    tiff = image_bytes("TIFF")
    document_id = agent.create(tiff, "scan.tif")

    response = fetch(agent.client, f"/documents/{document_id}/preview")

    assert_safe_file_response(response, len(tiff))
    assert response.mimetype == "image/tiff"
    assert disposition(response).kind == "attachment"
    assert "style-src" not in response.headers["Content-Security-Policy"]
    page = agent.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert f"/documents/{document_id}/preview?version=" not in page  # no "Aperçu" per version


def test_preview_of_an_older_version(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    png = image_bytes("PNG")
    document_id = agent.create(png, "scan.png")
    agent.add_version(document_id, PDF, "lettre.pdf")
    first, _second = versions_of(container, document_id)

    response = fetch(agent.client, f"/documents/{document_id}/preview?version={first.id}")

    assert response.data == png
    assert response.mimetype == "image/png"
    assert disposition(response).kind == "inline"


def test_every_download_and_preview_is_audited(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF, "lettre.pdf")
    [version] = versions_of(container, document_id)
    assert events(container, AuditAction.DOCUMENT_DOWNLOADED) == []

    fetch(agent.client, f"/documents/{document_id}/download")
    fetch(agent.client, f"/documents/{document_id}/preview")
    fetch(agent.client, f"/documents/{document_id}/download?version={version.id}")
    agent.client.get(f"/documents/{document_id}")  # the page itself is not a download

    audited = events(container, AuditAction.DOCUMENT_DOWNLOADED)
    assert len(audited) == 3
    assert {e.actor_id for e in audited} == {people.agent}
    assert {e.object_id for e in audited} == {str(document_id)}
    assert {e.details["version_id"] for e in audited} == {version.id}


def test_refused_download_is_not_audited(
    people: People, outsider: int, login: Callable[[str], Library], container: Container
) -> None:
    document_id = login("agent").create(PDF, "lettre.pdf")

    response = login("outsider").client.get(f"/documents/{document_id}/download")

    assert response.status_code == 404
    assert events(container, AuditAction.DOCUMENT_DOWNLOADED) == []
