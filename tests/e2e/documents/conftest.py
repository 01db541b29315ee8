"""Helpers for the document library pages: sample files, uploads through the forms, readers."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ged.adapters.orm import Document, Version
from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.audit import Actor
from ged.services.documents import DocumentData, IncomingFile
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import People, form_token

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_V2 = b"%PDF-1.7\n% second version, different bytes\n%%EOF\n"


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, kind)
    return buffer.getvalue()


# RFC 6266 as we send it: a disposition type, an ASCII fallback without quote, backslash,
# percent or control character, then the RFC 8187 UTF-8 name made of attr-chars and escapes.
DISPOSITION_RE = re.compile(
    r"^(?P<kind>attachment|inline); "
    r'filename="(?P<fallback>[A-Za-z0-9 ._()\[\]+,=@-]+)"; '
    r"filename\*=UTF-8''(?P<encoded>(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)$"
)


@dataclass(frozen=True)
class Disposition:
    kind: str
    fallback: str
    name: str


def disposition(response: TestResponse) -> Disposition:
    """The Content-Disposition header, parsed strictly: anything off-pattern fails the test."""
    header = response.headers["Content-Disposition"]
    assert header.isascii(), header
    assert header.isprintable(), header
    match = DISPOSITION_RE.match(header)
    assert match, f"not an RFC 6266 header as we send them: {header!r}"
    name = unquote(match["encoded"], encoding="utf-8", errors="strict")
    return Disposition(match["kind"], match["fallback"], name)


def fetch(client: FlaskClient, path: str) -> TestResponse:
    """GET a file: buffered, so that the response (and the store file it streams) is closed."""
    return client.get(path, buffered=True)


def closed(response: TestResponse) -> TestResponse:
    """Close a buffered response and its request body: the test client spools a large body to
    a temporary file and does not close it itself (a ResourceWarning, an error here)."""
    response.close()
    response.request.environ["wsgi.input"].close()
    return response


@dataclass
class Library:
    """One browser, logged in, driving the library forms."""

    client: FlaskClient
    container: Container

    def upload(
        self,
        content: bytes = PDF,
        filename: str = "lettre.pdf",
        title: str = "Lettre",
        **fields: str,
    ) -> TestResponse:
        data: dict[str, object] = {
            "title": title,
            "description": "",
            "classification_id": "",
            "unit_id": "",
            "tags": "",
            "file": (io.BytesIO(content), filename),
            "csrf_token": form_token(self.client, "/documents/new"),
        }
        data.update(fields)
        return closed(
            self.client.post(
                "/documents/new", data=data, content_type="multipart/form-data", buffered=True
            )
        )

    def create(self, content: bytes = PDF, filename: str = "lettre.pdf", **fields: str) -> int:
        response = self.upload(content, filename, **fields)
        assert response.status_code == 303, response.get_data(as_text=True)
        match = re.search(r"/documents/(\d+)$", response.location)
        assert match, response.location
        return int(match.group(1))

    def post(self, path: str, page: str, **data: object) -> TestResponse:
        """A form posted with the CSRF token of ``page``, as the browser does."""
        token = form_token(self.client, page)
        return closed(
            self.client.post(
                path,
                data={**data, "csrf_token": token},
                content_type="multipart/form-data",
                buffered=True,
            )
        )

    def add_version(self, document_id: int, content: bytes, filename: str) -> TestResponse:
        return self.post(
            f"/documents/{document_id}/versions",
            f"/documents/{document_id}",
            file=(io.BytesIO(content), filename),
        )

    def edit(self, document_id: int, **fields: str) -> TestResponse:
        data = {"title": "Lettre", "description": "", "classification_id": "", "tags": ""}
        data.update(fields)
        return self.post(f"/documents/{document_id}", f"/documents/{document_id}", **data)

    def action(self, document_id: int, action: str, **data: str) -> TestResponse:
        return self.post(f"/documents/{document_id}/{action}", f"/documents/{document_id}", **data)


@pytest.fixture
def login(
    people: People, new_client: Callable[[], AuthActions], container: Container
) -> Callable[[str], Library]:
    """``login("agent")``: a new browser logged in as that account."""

    def make(username: str) -> Library:
        auth = new_client()
        assert auth.login(username).status_code == 303
        return Library(auth.client, container)

    return make


@pytest.fixture
def outsider(build: Builders) -> int:
    """An agent of another unit."""
    return build.user("outsider", role=Role.AGENT, unit_id=build.unit("AUTRE"))


def stored_files(container: Container) -> set[str]:
    return {name for name, _ in container.store.iter_objects()}


def temp_files(container: Container) -> list[Path]:
    return list(container.store.iter_temp_files())


def count_rows(container: Container) -> tuple[int, int]:
    with container.reader() as uow:
        documents = uow.session.execute(select(func.count()).select_from(Document)).scalar_one()
        versions = uow.session.execute(select(func.count()).select_from(Version)).scalar_one()
    return documents, versions


def versions_of(container: Container, document_id: int) -> list[Version]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(Version).where(Version.document_id == document_id).order_by(Version.number)
            ).scalars()
        )


def document_row(container: Container, document_id: int) -> Document:
    with container.reader() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        return document


def create_as(
    container: Container,
    actor: Actor,
    title: str = "Document",
    name: str = "lettre.pdf",
    content: bytes = PDF,
    media_type: str = "application/pdf",
    **data: object,
) -> int:
    """A document made through the service, the way the API or an import would hand it over."""
    return container.documents.create(
        actor,
        DocumentData(title=title, **data),  # type: ignore[arg-type]
        IncomingFile(io.BytesIO(content), name, media_type),
    )
