"""Who sees and changes which document, on every page and file; and user text always escaped."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import SYSTEM
from tests.e2e.conftest import People, events, redirects_to_login, snapshot, text
from tests.e2e.documents.conftest import (
    PDF,
    Library,
    count_rows,
    document_row,
    fetch,
    stored_files,
)

PAGES = ["", "/download", "/preview", "/download?version=1", "/preview?version=1"]


def test_anonymous_is_sent_to_the_login_form(
    people: People, login: Callable[[str], Library]
) -> None:
    document_id = login("agent").create()
    anonymous = login("agent").client
    anonymous.delete_cookie("ged_session")

    for path in [
        "/documents/",
        "/documents/new",
        "/documents/plan",
        *(f"/documents/{document_id}{suffix}" for suffix in PAGES),
    ]:
        assert redirects_to_login(anonymous.get(path)), path


@pytest.mark.parametrize("suffix", PAGES)
def test_a_user_of_another_unit_gets_404_on_a_units_document(
    people: People,
    outsider: int,
    login: Callable[[str], Library],
    container: Container,
    suffix: str,
) -> None:
    document_id = login("agent").create(title="Budget interne DG")

    response = login("outsider").client.get(f"/documents/{document_id}{suffix}")

    assert response.status_code == 404
    assert "Budget interne DG" not in text(response)
    assert events(container, AuditAction.DOCUMENT_DOWNLOADED) == []


def test_a_user_of_another_unit_does_not_see_it_in_lists_or_counts(
    people: People, outsider: int, login: Callable[[str], Library]
) -> None:
    agent = login("agent")
    document_id = agent.create(title="Budget interne DG", tags="budget")
    agent.action(document_id, "delete")
    agent.create(title="Budget 2027 DG", tags="budget")
    outsider_client = login("outsider").client

    for query in ["", "?q=budget", "?tag=budget", "?trash=1", "?trash=1&q=budget"]:
        page = text(outsider_client.get(f"/documents/{query}"))
        assert "Budget" not in page, query
        assert "0 document" in page, query
    assert "1 document" in text(login("manager").client.get("/documents/?q=budget"))


def test_a_user_of_another_unit_cannot_change_the_document(
    people: People, outsider: int, login: Callable[[str], Library], container: Container
) -> None:
    document_id = login("agent").create(title="Budget interne DG")
    outsider_library = login("outsider")
    before, files = snapshot(container), stored_files(container)
    token_page = "/documents/new"

    responses = [
        outsider_library.post(f"/documents/{document_id}", token_page, title="Piraté"),
        outsider_library.post(f"/documents/{document_id}/delete", token_page),
        outsider_library.post(f"/documents/{document_id}/restore", token_page),
        outsider_library.post(
            f"/documents/{document_id}/hold", token_page, hold="1", reason="Pourquoi pas"
        ),
    ]
    version = outsider_library.post(
        f"/documents/{document_id}/versions",
        token_page,
        file=(io.BytesIO(PDF), "x.pdf"),
    )

    # The hold is refused on the role alone (403), before the document is even looked up.
    assert [r.status_code for r in responses] == [404, 404, 404, 403]
    assert version.status_code == 404
    assert snapshot(container) == before
    assert stored_files(container) == files


def test_the_unit_manager_sees_and_edits_the_units_documents(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    document_id = login("agent").create(title="Rapport de l'agent")
    manager = login("manager")

    assert manager.client.get(f"/documents/{document_id}").status_code == 200
    assert fetch(manager.client, f"/documents/{document_id}/download").data == PDF
    assert manager.edit(document_id, title="Rapport relu").status_code == 303
    assert document_row(container, document_id).title == "Rapport relu"


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("agent", True),  # its author
        ("auditor", True),
        ("manager", False),  # same unit, but not named
        ("admin", False),
        ("registrar", False),
    ],
)
def test_a_confidential_document_is_seen_only_by_its_author_and_auditors(
    people: People, login: Callable[[str], Library], username: str, sees: bool
) -> None:
    document_id = login("agent").create(title="Dossier disciplinaire", confidential="y")
    client = login(username).client

    page = client.get(f"/documents/{document_id}")
    download = fetch(client, f"/documents/{document_id}/download")
    listing = text(client.get("/documents/"))

    assert page.status_code == (200 if sees else 404)
    assert download.status_code == (200 if sees else 404)
    assert ("Dossier disciplinaire" in listing) is sees
    assert ("1 document" in listing) is sees


def test_an_auditor_reads_everything_but_cannot_upload(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    document_id = login("agent").create(title="Note")
    auditor = login("auditor")
    files = stored_files(container)

    response = auditor.upload(PDF, "audit.pdf", title="Ajout de l'auditeur")

    assert response.status_code == 403
    assert count_rows(container) == (1, 1)
    assert stored_files(container) == files
    listing = text(auditor.client.get("/documents/"))
    assert "Note" in listing
    assert "Nouveau document" not in listing
    detail = text(auditor.client.get(f"/documents/{document_id}"))
    assert "Mettre à la corbeille" not in detail
    assert "Ajouter la version" not in detail
    assert auditor.edit(document_id, title="Corrigé par l'auditeur").status_code == 403
    assert auditor.action(document_id, "delete").status_code == 403
    assert document_row(container, document_id).title == "Note"


XSS = '<script>alert("x")</script>'
XSS_TAG = "<img src=x onerror=alert(1)>"
XSS_NAME = "<svg onload=alert(1)>.pdf"


def test_titles_tags_descriptions_and_file_names_are_rendered_escaped(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(
        PDF, XSS_NAME, title=f"Titre {XSS}", description=XSS, tags=f"{XSS_TAG}, normal"
    )
    container.documents.create_classification(SYSTEM, "XSS", f"Rubrique {XSS}")

    pages = [
        agent.client.get(f"/documents/{document_id}"),
        agent.client.get("/documents/"),
        agent.client.get("/documents/plan"),
        agent.client.get(f"/documents/?q={XSS}&tag={XSS_TAG}"),
    ]

    for response in pages:
        raw = response.get_data(as_text=True)
        assert "<script>alert" not in raw
        assert "<img src=x" not in raw
        assert "<svg onload" not in raw
    detail = pages[0].get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "&lt;svg onload=alert(1)&gt;.pdf" in detail
    assert 'dir="auto"' in detail
    for response in pages:
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        raw = response.get_data(as_text=True)
        assert "onclick=" not in raw
        assert " style=" not in raw
