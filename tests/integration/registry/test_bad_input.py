"""Hostile input at registration (RELIABILITY.md items 1–5 and 11, service side).

Every refusal leaves nothing behind: no mail, document or version row, no file in the store, no
chrono taken; and says, in French, what to fix. Escaping markup is the web layer's job: here it
must come back exactly as it was typed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ged import bootstrap
from ged.adapters.orm import Document, Version
from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.services.documents import DocumentData, IncomingFile
from ged.services.mail import MailFilter, MailInput, Registered
from ged.services.uploads import Upload, check_upload
from tests.builders import SYSTEM
from tests.integration.registry.conftest import (
    Office,
    make_office,
    pdf,
    row_counts,
    store_files,
    upload,
)

MARKUP = {
    "subject": "<script>alert('objet')</script> Demande",
    "correspondent_name": '"><img src=x onerror=alert(1)> Société',
    "sender_reference": "javascript:alert(1)//<b>",
    "comment": "<svg onload=alert(document.cookie)> vu & transmis",
    # No "/" in it: a slash is a directory separator and would be cut (see the names below).
    "file_name": "\"><img src=x onerror=alert('f')>.pdf",
}

# Content that is not one of PDF, JPEG, PNG, TIFF, under a name that says it is.
LYING_FILES = {
    "svg_as_pdf": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
        b"<script>alert(1)</script></svg>",
        "scan.pdf",
    ),
    "bare_svg_as_png": (b"<svg onload=alert(1)>", "photo.png"),
    "html_as_pdf": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "lettre.pdf"),
    "html_with_bom_as_jpg": (b"\xef\xbb\xbf<html><body onload=alert(1)>", "scan.jpg"),
    "javascript_as_pdf": (b"fetch('/api/v1/mail').then(r => r.text())", "lettre.pdf"),
    "postscript_as_pdf": (b"%!PS-Adobe-3.0\n/Times findfont\nshowpage\n", "lettre.pdf"),
    "postscript_hiding_a_pdf_header": (b"%!PS-Adobe-3.0\n%PDF-1.7\nshowpage\n", "lettre.pdf"),
    "eps_as_png": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "image.png"),
    "dos_eps_as_tiff": (b"\xc5\xd0\xd3\xc6\x1e\x00\x00\x00" + b"%!PS-Adobe-3.0", "scan.tiff"),
    "gif_as_png": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "photo.png"),
    "zip_as_pdf": (b"PK\x03\x04\x14\x00\x06\x00", "rapport.pdf"),
    "exe_as_pdf": (b"MZ\x90\x00\x03\x00\x00\x00", "facture.pdf"),
    "pdf_header_after_junk": (b"  \n%PDF-1.4\n", "lettre.pdf"),
}

# (name as sent, name as stored)
NAMES = {
    "parent_directories": ("../../../etc/cron.d/lettre.pdf", "lettre.pdf"),
    "windows_parents": ("..\\..\\Windows\\System32\\lettre.pdf", "lettre.pdf"),
    "absolute_path": ("/etc/passwd", "passwd"),
    "windows_absolute_path": ("C:\\Users\\greffe\\Bureau\\lettre.pdf", "lettre.pdf"),
    "nul_byte": ("rapport\x00.pdf", "rapport.pdf"),
    "nul_before_a_second_extension": ("rapport.pdf\x00.html", "rapport.pdf.html"),
    "line_breaks": ("lettre\r\n.pdf", "lettre.pdf"),
    "right_to_left_override": ("facture\u202efdp.exe", "facturefdp.exe"),
    "300_characters": ("a" * 296 + ".pdf", "a" * 251 + ".pdf"),
    "arabic": ("رسالة من الوزارة.pdf", "رسالة من الوزارة.pdf"),
    "arabic_300_characters": ("ب" * 296 + ".pdf", "ب" * 251 + ".pdf"),
    "arabic_with_right_to_left_mark": ("تقرير\u200f.pdf", "تقرير.pdf"),
    "hidden_file": (".htaccess", "htaccess"),
    "dots_only": ("..", "document"),
    "empty": ("", "document"),
}


def incoming(office: Office, **fields: object) -> MailInput:
    data: dict[str, object] = {
        "direction": "incoming",
        "subject": "Demande de permis",
        "correspondent_name": "Commune de Témara",
        "unit_ids": (office.unit_id,),
    }
    data.update(fields)
    return MailInput(**data)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def container(world_container: Container) -> Container:
    """One database for the whole module: each test checks what it added, not absolute counts."""
    return world_container


@pytest.fixture(scope="module")
def office(container: Container) -> Office:
    return make_office(container)


@pytest.fixture
def nothing_left(container: Container, office: Office) -> Iterator[None]:
    """After the test: no new row, no new file, and the next mail gets the next number."""
    last = container.registry.register(office.registrar, incoming(office)).chrono
    rows, files = row_counts(container), store_files(container)
    yield
    assert row_counts(container) == rows
    assert store_files(container) == files
    following = container.registry.register(office.registrar, incoming(office)).chrono
    assert int(following.rsplit("-", 1)[1]) == int(last.rsplit("-", 1)[1]) + 1


def version_of(container: Container, registered: Registered) -> Version:
    [(_, version)] = container.registry.get(SYSTEM, registered.id).documents
    return version


def test_markup_in_every_free_text_field_comes_back_unchanged(
    container: Container, office: Office
) -> None:
    registered = container.registry.register(
        office.registrar,
        incoming(
            office,
            subject=MARKUP["subject"],
            correspondent_name=MARKUP["correspondent_name"],
            sender_reference=MARKUP["sender_reference"],
        ),
        [upload(pdf("xss"), MARKUP["file_name"])],
    )
    container.registry.comment(office.registrar, registered.id, MARKUP["comment"])

    view = container.registry.get(office.registrar, registered.id)
    [(document, version)] = view.documents
    assert view.mail.subject == MARKUP["subject"]
    assert view.mail.correspondent is not None
    assert view.mail.correspondent.name == MARKUP["correspondent_name"]
    assert view.mail.sender_reference == MARKUP["sender_reference"]
    assert [c.body for c in view.comments] == [MARKUP["comment"]]
    assert version.original_name == MARKUP["file_name"]
    assert document.title.endswith(MARKUP["file_name"])

    [listed] = container.registry.search(
        office.registrar, MailFilter(text="<script>alert('objet')")
    ).rows
    assert listed.subject == MARKUP["subject"]
    day = view.mail.mail_date
    [row] = [
        r
        for r in container.registry.export(office.registrar, "incoming", day, day)
        if r["chrono"] == registered.chrono
    ]
    assert (row["subject"], row["correspondent"], row["reference"]) == (
        MARKUP["subject"],
        MARKUP["correspondent_name"],
        MARKUP["sender_reference"],
    )
    [found] = container.registry.find_correspondents(office.registrar, "onerror")
    assert found.name == MARKUP["correspondent_name"]


@pytest.mark.usefixtures("nothing_left")
@pytest.mark.parametrize("case", sorted(LYING_FILES))
def test_file_whose_content_is_not_an_accepted_type_is_refused_whatever_its_name(
    container: Container, office: Office, case: str
) -> None:
    data, name = LYING_FILES[case]

    with pytest.raises(ValidationError) as refused:
        container.registry.register(office.registrar, incoming(office), [upload(data, name)])

    assert refused.value.message == (
        f"Le fichier « {name} » n'est pas un PDF, JPEG, PNG ou TIFF (d'après son contenu, "
        "quelle que soit son extension)."
    )
    assert refused.value.field == "files"


@pytest.mark.usefixtures("nothing_left")
def test_one_bad_file_among_good_ones_refuses_the_whole_registration(
    container: Container, office: Office
) -> None:
    svg, _ = LYING_FILES["svg_as_pdf"]

    with pytest.raises(ValidationError, match=r"« annexe\.pdf »"):
        container.registry.register(
            office.registrar,
            incoming(office),
            [upload(pdf("principal"), "principal.pdf"), upload(svg, "annexe.pdf")],
        )


@pytest.mark.usefixtures("nothing_left")
def test_empty_file_is_refused(container: Container, office: Office) -> None:
    with pytest.raises(ValidationError, match=r"^Le fichier « vide\.pdf » est vide\.$"):
        container.registry.register(office.registrar, incoming(office), [upload(b"", "vide.pdf")])


@pytest.fixture
def one_megabyte(container: Container) -> Iterator[Container]:
    """The same instance with a 1 MB file limit."""
    settings = container.settings
    small = dataclasses.replace(settings, store=dataclasses.replace(settings.store, max_file_mb=1))
    ged = bootstrap.build(small, engine=container.engine, immediate_jobs=True)
    yield ged
    ged.dispose()


@pytest.mark.usefixtures("nothing_left")
def test_file_over_the_size_limit_is_refused_and_nothing_is_stored(
    one_megabyte: Container, office: Office
) -> None:
    too_big = pdf("gros") + b"0" * (1024 * 1024)

    with pytest.raises(ValidationError) as refused:
        one_megabyte.registry.register(
            office.registrar, incoming(office), [upload(too_big, "scan.pdf")]
        )

    assert refused.value.message == "Le fichier « scan.pdf » dépasse la taille maximale (1 Mo)."


def test_file_of_exactly_the_size_limit_is_accepted(
    one_megabyte: Container, office: Office
) -> None:
    data = pdf("juste")
    data += b"0" * (1024 * 1024 - len(data))

    registered = one_megabyte.registry.register(
        office.registrar, incoming(office), [upload(data, "scan.pdf")]
    )

    assert version_of(one_megabyte, registered).size == 1024 * 1024


@pytest.mark.usefixtures("nothing_left")
def test_more_files_than_allowed_are_refused(container: Container, office: Office) -> None:
    limit = container.settings.registry.max_files
    files = [upload(pdf(f"page {n}"), f"page{n}.pdf") for n in range(limit + 1)]

    with pytest.raises(ValidationError, match=f"^{limit} fichiers au plus"):
        container.registry.register(office.registrar, incoming(office), files)


@pytest.mark.parametrize("case", sorted(NAMES))
def test_file_name_is_cleaned_and_the_store_path_is_the_sha256(
    container: Container, office: Office, case: str
) -> None:
    sent, cleaned = NAMES[case]
    data = pdf(f"nom {case}")
    before = store_files(container)

    registered = container.registry.register(
        office.registrar, incoming(office), [upload(data, sent)]
    )

    version = version_of(container, registered)
    assert version.original_name == cleaned
    assert not {"/", "\\"} & set(version.original_name)
    assert all(unicodedata.category(c)[0] != "C" for c in version.original_name)
    assert len(version.original_name) <= 255
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    new = store_files(container) - before
    store = container.store
    assert new == {str(store.path_for(version.sha256).relative_to(store.root))}
    # Nothing was written anywhere else, under any part of the name.
    instance = container.settings.instance
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", p.name)
        for p in (instance / "store" / "objects").rglob("*")
        if p.is_file()
    )
    assert not (instance / "etc").exists()
    assert not (instance.parent / "etc").exists()
    assert list(container.store.iter_temp_files()) == []


def test_registered_by_is_the_actor_whatever_the_input(
    container: Container, office: Office
) -> None:
    registered = container.registry.register(office.registrar, incoming(office))

    view = container.registry.get(SYSTEM, registered.id)
    assert view.mail.registered_by_id == office.registrar.user_id
    assert view.mail.status == "registered"


def test_library_upload_cleans_the_name_of_a_checked_file(container: Container) -> None:
    sent, cleaned = NAMES["parent_directories"]
    file = check_upload(Upload(io.BytesIO(pdf("bibliothèque")), sent), 1024 * 1024)

    document_id = container.documents.create(SYSTEM, DocumentData(MARKUP["subject"]), file)

    view = container.documents.get(SYSTEM, document_id)
    assert view.document.title == MARKUP["subject"]
    assert [v.original_name for v in view.versions] == [cleaned]


def test_library_service_refuses_svg_even_if_the_caller_skipped_the_check(
    container: Container,
) -> None:
    svg, _ = LYING_FILES["svg_as_pdf"]

    with pytest.raises(ValidationError):
        container.documents.create(
            SYSTEM,
            DocumentData("Plan"),
            IncomingFile(io.BytesIO(svg), "plan.svg", "application/pdf"),
        )
    with container.reader() as uow:
        titles = uow.session.execute(select(Document.title)).scalars()
        assert "Plan" not in set(titles)
