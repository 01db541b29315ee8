"""Scans with and without sheets: attached to their mail, split into drafts, qualified, discarded."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import func, select

from ged.adapters.orm import (
    AuditEvent,
    CaptureDraft,
    ChronoCounter,
    CircuitInstance,
    Document,
    Mail,
    MailDocument,
    Version,
    VersionText,
)
from ged.bootstrap import Container
from ged.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction
from ged.services.audit import Actor
from ged.services.basket import parts_of
from ged.services.mail import MailInput
from ocr.sheets import Sheet, find_sheets
from tests.integration.capture import scans
from tests.integration.circuits.conftest import Office, make_office

SCANNER = Actor.system("scanner")


@pytest.fixture
def office(queued: Container) -> Office:
    return make_office(queued)


def cover_pages(office: Office, mail_id: int) -> list:  # type: ignore[type-arg]
    _chrono, pdf = office.container.basket.cover_sheet(office.clerk, mail_id)
    return scans.scanned(pdf, seed=7)


def separator_pages(office: Office) -> list:  # type: ignore[type-arg]
    return scans.scanned(office.container.basket.separator_sheet(office.clerk), seed=9)


def rows(container: Container, model: type, *where: object) -> list:  # type: ignore[type-arg]
    with container.reader() as uow:
        return list(uow.session.execute(select(model).where(*where)).scalars())  # type: ignore[arg-type]


def pdf_pages(container: Container, document_id: int) -> int:
    with container.reader() as uow:
        sha = uow.session.execute(
            select(Version.sha256).where(Version.document_id == document_id)
        ).scalar_one()
    with pikepdf.open(container.store.path_for(sha)) as pdf:
        return len(pdf.pages)


def incoming(office: Office, subject: str = "Demande numérisée", **kw: object) -> MailInput:
    return MailInput(
        "incoming",
        subject,
        correspondent_name="Commune urbaine",
        mail_type_id=office.incoming_type,
        unit_ids=(office.sau,),
        **kw,  # type: ignore[arg-type]
    )


# --- reading sheets -----------------------------------------------------------------------------


def test_the_printed_cover_sheet_reads_back_from_a_scan(office: Office, tmp_path: Path) -> None:
    mail_id = office.register("Lettre du wali")
    chrono, pdf = office.container.basket.cover_sheet(office.clerk, mail_id)
    # The label is readable by a person too: chrono, subject and date are printed.
    label = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    today = office.container.tasks.today().strftime("%d/%m/%Y")
    assert chrono in label
    assert "Lettre du wali" in label
    assert today in label
    path = scans.scan_pdf(tmp_path / "scan.pdf", scans.scanned(pdf, seed=3, angle=2.0))
    assert find_sheets(path) == [Sheet("cover", chrono)]


def test_pages_are_cut_at_sheets_and_sheets_dropped() -> None:
    cover, sep = Sheet("cover", "A-2026-000001"), Sheet("separator")
    assert [p.pages for p in parts_of([None, None])] == [(0, 1)]
    parts = parts_of([cover, None, None, sep, None, sep, sep, None])
    assert [(p.chrono, p.pages) for p in parts] == [
        ("A-2026-000001", (1, 2)),
        (None, (4,)),
        (None, (7,)),
    ]
    with pytest.raises(ValidationError, match="n'est suivie d'aucune page"):
        parts_of([cover, sep, None])
    with pytest.raises(ValidationError, match="que des feuilles de séparation"):
        parts_of([sep, sep])


# --- ingesting scans ----------------------------------------------------------------------------


def test_a_scan_with_a_cover_sheet_is_attached_to_its_mail(office: Office, tmp_path: Path) -> None:
    ged = office.container
    mail_id = office.register("Lettre du wali")
    path = scans.scan_pdf(
        tmp_path / "lot.pdf", [*cover_pages(office, mail_id), *scans.letter_pages("Wali", 2)]
    )

    outcomes = ged.basket.ingest(SCANNER, path, "lot.pdf")

    assert [(o.kind, o.mail_id, o.pages) for o in outcomes] == [("attached", mail_id, (1, 2))]
    attached = rows(ged, MailDocument, MailDocument.mail_id == mail_id)
    assert [a.document_id for a in attached] == [outcomes[0].document_id]
    # The cover sheet itself is dropped: the stored document has the letter's two pages.
    assert pdf_pages(ged, outcomes[0].document_id) == 2
    assert rows(ged, CaptureDraft) == []
    events = rows(ged, AuditEvent, AuditEvent.action == AuditAction.MAIL_SCAN_ATTACHED.value)
    assert [e.object_id for e in events] == [str(mail_id)]
    # The document follows its mail: the unit it is addressed to sees it.
    view = ged.registry.get(office.agent, mail_id)
    assert [d.id for d, _v in view.documents] == [outcomes[0].document_id]


def test_a_batch_with_separators_becomes_one_draft_per_letter(
    office: Office, tmp_path: Path
) -> None:
    ged = office.container
    sep = separator_pages(office)
    pages = [
        *scans.letter_pages("Première", 1, seed=1),
        *sep,
        *scans.letter_pages("Deuxième", 2, seed=2),
        *sep,
        *scans.letter_pages("Troisième", 1, seed=4),
    ]
    path = scans.scan_pdf(tmp_path / "matin.pdf", pages)

    outcomes = ged.basket.ingest(SCANNER, path, "matin.pdf")

    assert [(o.kind, o.pages) for o in outcomes] == [
        ("draft", (0,)),
        ("draft", (2, 3)),
        ("draft", (5,)),
    ]
    drafts = ged.basket.drafts(office.clerk)
    assert [(d.page_count, d.source_name, d.state) for d in drafts] == [
        (1, "matin.pdf", "draft"),
        (2, "matin.pdf", "draft"),
        (1, "matin.pdf", "draft"),
    ]
    assert [pdf_pages(ged, d.document_id) for d in drafts] == [1, 2, 1]
    # No chrono is taken, nothing reaches the register.
    assert rows(ged, Mail) == []
    assert rows(ged, ChronoCounter) == []
    assert (
        ged.registry.export(office.clerk, "incoming", dt.date(2026, 1, 1), ged.tasks.today()) == []
    )


def test_a_scan_without_sheet_becomes_a_draft_with_its_ocr_queued(
    office: Office, tmp_path: Path
) -> None:
    ged = office.container
    path = scans.scan_pdf(tmp_path / "lettre.pdf", scans.letter_pages("Lettre", 1))
    original = path.read_bytes()

    [outcome] = ged.basket.ingest(SCANNER, path, "lettre.pdf")

    [draft] = ged.basket.drafts(office.clerk)
    assert (draft.id, draft.document_id, draft.text_state) == (
        outcome.draft_id,
        outcome.document_id,
        "pending",
    )
    with ged.reader() as uow:
        version = uow.session.execute(
            select(Version).where(Version.document_id == draft.document_id)
        ).scalar_one()
        document = uow.session.get(Document, draft.document_id)
        assert document is not None
        assert document.confidential
        assert uow.session.get(VersionText, version.id) is not None
    # Without sheets the scan is kept byte for byte, not rewritten.
    assert ged.store.path_for(version.sha256).read_bytes() == original
    # A draft's document is nobody's but the basket's: an agent does not find it.
    with pytest.raises(NotFound):
        ged.documents.get(office.agent, draft.document_id)


@pytest.mark.parametrize("chrono", ["A-1999-999999"])
def test_a_cover_sheet_of_an_unknown_mail_refuses_the_whole_file(
    office: Office, tmp_path: Path, chrono: str
) -> None:
    ged = office.container
    from ged.services.sheets import CoverLabel, cover_sheet_pdf

    cover = scans.scanned(cover_sheet_pdf(CoverLabel(chrono, "Inconnu", dt.date(2026, 1, 2))))
    path = scans.scan_pdf(
        tmp_path / "lot.pdf",
        [*scans.letter_pages("Avant", 1), *cover, *scans.letter_pages("Après", 1)],
    )
    before = sorted(p for _sha, p in ged.store.iter_objects())

    with pytest.raises(ValidationError, match=chrono):
        ged.basket.ingest(SCANNER, path, "lot.pdf")

    assert rows(ged, CaptureDraft) == []
    assert rows(ged, Document) == []
    assert sorted(p for _sha, p in ged.store.iter_objects()) == before


def _tiff(path: Path, pages: list, mode: str = "L") -> Path:  # type: ignore[type-arg]
    frames = [page.convert(mode) for page in pages]
    compression = "group4" if mode == "1" else "tiff_lzw"
    first, *rest = frames
    first.save(
        path, "TIFF", save_all=True, append_images=rest, compression=compression, dpi=(150, 150)
    )
    return path


def stored_path(container: Container, document_id: int) -> Path:
    with container.reader() as uow:
        sha = uow.session.execute(
            select(Version.sha256).where(Version.document_id == document_id)
        ).scalar_one()
    return container.store.path_for(sha)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_a_multipage_tiff_batch_is_cut_at_its_sheets_like_a_pdf(
    office: Office, tmp_path: Path, mode: str
) -> None:
    ged = office.container
    mail_id = office.register("Lettre du wali")
    letters = [scans.letter_pages(f"Lettre {n}", 1, seed=n)[0] for n in range(4)]
    pages = [
        letters[0],
        *cover_pages(office, mail_id),
        letters[1],
        letters[2],
        *separator_pages(office),
        letters[3],
    ]
    path = _tiff(tmp_path / "lot.tif", pages, mode)

    outcomes = ged.basket.ingest(SCANNER, path, "lot.tif")

    assert [(o.kind, o.pages, o.mail_id) for o in outcomes] == [
        ("draft", (0,), None),
        ("attached", (2, 3), mail_id),
        ("draft", (5,), None),
    ]
    # Each part is a TIFF of its own pages, pixels untouched; the sheets are dropped.
    with Image.open(path) as source:
        expected = []
        for frame in (0, 2, 3, 5):
            source.seek(frame)
            expected.append(source.convert("L").tobytes())
    found = []
    for outcome in outcomes:
        with Image.open(stored_path(ged, outcome.document_id)) as part:
            assert part.format == "TIFF"
            assert part.info["dpi"] == (150, 150)
            assert part.info["compression"] == ("group4" if mode == "1" else "tiff_lzw")
            for frame in range(part.n_frames):
                part.seek(frame)
                found.append(part.convert("L").tobytes())
    assert found == expected
    drafts = ged.basket.drafts(office.clerk)
    assert [(d.source_name, d.page_count) for d in drafts] == [("lot.tif", 1), ("lot.tif", 1)]
    attached = rows(ged, MailDocument, MailDocument.mail_id == mail_id)
    assert [a.document_id for a in attached] == [outcomes[1].document_id]
    with ged.reader() as uow:
        names = uow.session.execute(
            select(Version.original_name, Version.media_type).order_by(Version.id)
        ).all()
    assert [tuple(n) for n in names] == [
        ("lot (p. 1).tif", "image/tiff"),
        ("lot (p. 3-4).tif", "image/tiff"),
        ("lot (p. 6).tif", "image/tiff"),
    ]


@pytest.mark.parametrize(("fmt", "name"), [("JPEG", "scan.jpg"), ("PNG", "scan.png")])
def test_a_lone_sheet_scanned_as_an_image_is_refused_for_what_it_is(
    office: Office, tmp_path: Path, fmt: str, name: str
) -> None:
    # A JPEG or PNG is one page: a sheet alone has nothing to attach or to separate.
    ged = office.container
    mail_id = office.register("Lettre du wali")
    [cover] = cover_pages(office, mail_id)
    [separator] = separator_pages(office)
    cover.save(tmp_path / f"cover-{name}", fmt)
    separator.save(tmp_path / f"sep-{name}", fmt)

    with pytest.raises(ValidationError, match="n'est suivie d'aucune page"):
        ged.basket.ingest(SCANNER, tmp_path / f"cover-{name}", name)
    with pytest.raises(ValidationError, match="que des feuilles de séparation"):
        ged.basket.ingest(SCANNER, tmp_path / f"sep-{name}", name)
    assert rows(ged, CaptureDraft) == []
    assert rows(ged, Document) == []
    # The same image without a sheet is a draft, stored as it came.
    letter = scans.letter_pages("Lettre", 1)[0]
    letter.save(tmp_path / name, fmt)
    [outcome] = ged.basket.ingest(SCANNER, tmp_path / name, name)
    assert outcome.kind == "draft"
    assert stored_path(ged, outcome.document_id).read_bytes() == (tmp_path / name).read_bytes()


def test_only_the_bureau_d_ordre_uses_the_basket(office: Office, tmp_path: Path) -> None:
    ged = office.container
    path = scans.scan_pdf(tmp_path / "lettre.pdf", scans.letter_pages("Lettre", 1))
    for actor in (office.agent, office.chef, office.auditor):
        with pytest.raises(PermissionDenied):
            ged.basket.ingest(actor, path, "lettre.pdf")
        with pytest.raises(PermissionDenied):
            ged.basket.drafts(actor)
        with pytest.raises(PermissionDenied):
            ged.basket.separator_sheet(actor)
    [outcome] = ged.basket.ingest(office.admin, path, "lettre.pdf")
    assert outcome.draft_id is not None
    for actor in (office.agent, office.auditor):
        with pytest.raises(PermissionDenied):
            ged.basket.qualify(actor, outcome.draft_id, incoming(office))
        with pytest.raises(PermissionDenied):
            ged.basket.discard(actor, outcome.draft_id, "")
    # A cover sheet is printed by whoever sees the mail, never by an auditor; a mail one
    # cannot see is not found.
    mail_id = office.register("Lettre confidentielle", confidential=True)
    with pytest.raises(PermissionDenied):
        ged.basket.cover_sheet(office.auditor, mail_id)
    with pytest.raises(NotFound):
        ged.basket.cover_sheet(office.stranger, mail_id)
    with pytest.raises(NotFound):
        ged.basket.cover_sheet(office.agent, mail_id)


# --- qualifying and discarding ------------------------------------------------------------------


def _one_draft(office: Office, tmp_path: Path, name: str = "lettre.pdf") -> int:
    path = scans.scan_pdf(tmp_path / name, scans.letter_pages(name, 1))
    [outcome] = office.container.basket.ingest(SCANNER, path, name)
    assert outcome.draft_id is not None
    return outcome.draft_id


def test_qualifying_a_draft_registers_it_and_starts_its_circuit(
    office: Office, tmp_path: Path
) -> None:
    ged = office.container
    first = office.register("Enregistré avant")
    draft_id = _one_draft(office, tmp_path)

    registered = ged.basket.qualify(office.clerk, draft_id, incoming(office, "Demande du matin"))

    year = ged.tasks.today().year
    with ged.reader() as uow:
        before = uow.session.get(Mail, first)
        assert before is not None
        assert before.chrono == f"A-{year}-000001"
    assert registered.chrono == f"A-{year}-000002"
    draft = rows(ged, CaptureDraft, CaptureDraft.id == draft_id)[0]
    assert (draft.state, draft.mail_id) == ("qualified", registered.id)
    [link] = rows(ged, MailDocument, MailDocument.mail_id == registered.id)
    assert (link.document_id, link.position) == (draft.document_id, 0)
    [instance] = rows(ged, CircuitInstance, CircuitInstance.mail_id == registered.id)
    assert instance.status == "running"
    assert office.task(office.director, "dispatch", registered.id)
    view = ged.registry.get(office.agent, registered.id)
    assert view.documents[0][0].title.startswith(registered.chrono)
    assert ged.basket.drafts(office.clerk) == []
    with pytest.raises(Conflict):
        ged.basket.qualify(office.clerk, draft_id, incoming(office))
    with pytest.raises(Conflict):
        ged.basket.discard(office.clerk, draft_id, "doublon")
    exported = ged.registry.export(office.clerk, "incoming", dt.date(year, 1, 1), ged.tasks.today())
    assert [row["chrono"] for row in exported] == [f"A-{year}-000001", f"A-{year}-000002"]


def test_a_refused_qualification_takes_no_number_and_keeps_the_draft(
    office: Office, tmp_path: Path
) -> None:
    ged = office.container
    draft_id = _one_draft(office, tmp_path)
    with pytest.raises(ValidationError):
        ged.basket.qualify(office.clerk, draft_id, incoming(office, "   "))
    with pytest.raises(ValidationError):
        ged.basket.qualify(
            office.clerk,
            draft_id,
            MailInput("incoming", "Sans entité", correspondent_name="X", unit_ids=()),
        )
    assert rows(ged, Mail) == []
    assert rows(ged, ChronoCounter) == []
    assert [d.id for d in ged.basket.drafts(office.clerk)] == [draft_id]
    registered = ged.basket.qualify(office.clerk, draft_id, incoming(office))
    assert registered.chrono.endswith("-000001")


def test_discarding_keeps_the_document_and_can_be_undone(office: Office, tmp_path: Path) -> None:
    ged = office.container
    draft_id = _one_draft(office, tmp_path)
    kept = _one_draft(office, tmp_path, "autre.pdf")

    ged.basket.discard(office.clerk, draft_id, "Publicité")

    assert [d.id for d in ged.basket.drafts(office.clerk)] == [kept]
    [discarded] = ged.basket.drafts(office.clerk, state="discarded")
    assert (discarded.id, discarded.reason) == (draft_id, "Publicité")
    with ged.reader() as uow:
        document = uow.session.get(Document, discarded.document_id)
        assert document is not None
        assert document.deleted_at is not None
        sha = uow.session.execute(
            select(Version.sha256).where(Version.document_id == document.id)
        ).scalar_one()
    assert ged.store.exists(sha)
    with pytest.raises(Conflict):
        ged.basket.qualify(office.clerk, draft_id, incoming(office))

    ged.basket.restore(office.clerk, draft_id)

    assert sorted(d.id for d in ged.basket.drafts(office.clerk)) == sorted([draft_id, kept])
    with ged.reader() as uow:
        document = uow.session.get(Document, discarded.document_id)
        assert document is not None
        assert document.deleted_at is None
        actions = set(
            uow.session.execute(
                select(AuditEvent.action).where(AuditEvent.object_type == "draft")
            ).scalars()
        )
    assert {AuditAction.DRAFT_CREATED.value, AuditAction.DRAFT_DISCARDED.value} <= actions


def test_the_scan_of_a_draft_is_served_to_the_basket_and_audited(
    office: Office, tmp_path: Path
) -> None:
    ged = office.container
    draft_id = _one_draft(office, tmp_path)
    name, media_type, stream = ged.basket.open_file(office.clerk, draft_id, "original")
    with stream:
        assert stream.read(5) == b"%PDF-"
    assert (name, media_type) == ("lettre.pdf", "application/pdf")
    with pytest.raises(NotFound):  # OCR has not run: no thumbnail yet
        ged.basket.open_file(office.clerk, draft_id, "thumbnail")
    with ged.reader() as uow:
        downloads = uow.session.execute(
            select(func.count()).where(AuditEvent.action == AuditAction.DOCUMENT_DOWNLOADED.value)
        ).scalar_one()
    assert downloads == 1
