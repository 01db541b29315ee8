"""Scans coming in: cover sheets attach to their mail, the rest waits in the "à qualifier" basket.

``ingest`` takes one scanned file (from the scanner folder): pages carrying a cover sheet's QR
code start a part that is attached to that mail; separator sheets start a new part; pages before
any sheet, and parts after a separator, become drafts. Sheets themselves are dropped. Every check
(type, size, pages, unknown chrono) runs before the first byte is stored, and everything the
file gives is created in one transaction: a file is taken whole or not at all. That transaction
also records the file itself (``scan.ingested``: its SHA-256, its name and what it gave), so a
file taken again under the same name with the same bytes (a watcher killed after the commit,
before it moved the file to ``done/``) gives nothing new: ``ingest`` returns what it gave then.

A draft (``CaptureDraft``) is a document that is not yet a mail: no chrono, absent from the
register, its export and the mail list. The bureau d'ordre qualifies it (it is registered then,
taking its chrono and starting its type's circuit in that transaction) or discards it. Discarding
never loses the scan: its document goes to the trash, the draft stays listed as discarded, and
putting it back restores both.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ocr
from ged.adapters.jobs import Jobs
from ged.adapters.orm import (
    AuditEvent,
    CaptureDraft,
    Document,
    Mail,
    MailDocument,
    MailUnit,
    User,
    Version,
    VersionText,
    utcnow,
)
from ged.adapters.storage import FileStore, StoredFile, file_sha256
from ged.adapters.uow import UnitOfWork
from ged.config import CaptureSettings
from ged.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Direction, Locale, Role
from ged.jobs import INDEX_DOCUMENT, INDEX_MAIL
from ged.services.audit import Actor, record
from ged.services.capture import text_state_label
from ged.services.documents import DocumentData, Documents, IncomingFile
from ged.services.mail import MailInput, Registered, Registry
from ged.services.permissions import visible_mail
from ged.services.sheets import (
    CoverLabel,
    cover_sheet_pdf,
    separator_sheet_pdf,
    split_pdf,
    split_tiff,
)
from ocr.sheets import Sheet, find_sheets

DRAFT_TITLE = "À qualifier — {name}"
# Audit events of taken files name them by their SHA-256 (indexed with the object type).
SCAN_OBJECT = "scan"
MAX_REASON = 500


@dataclass(frozen=True)
class Part:
    """Pages of a scanned file (0-based) and where they go: a mail's chrono, or a draft."""

    chrono: str | None
    pages: tuple[int, ...]


@dataclass(frozen=True)
class Outcome:
    kind: Literal["attached", "draft"]
    pages: tuple[int, ...]
    document_id: int
    draft_id: int | None = None
    mail_id: int | None = None
    chrono: str = ""
    earlier: bool = False
    """Given when the same file was first taken: this time, nothing was created."""

    def describe(self) -> str:
        span = _span(self.pages)
        if self.kind == "attached":
            said = f"{span} : jointes au courrier {self.chrono} (document {self.document_id})"
        else:
            said = (
                f"{span} : brouillon à qualifier n° {self.draft_id} (document {self.document_id})"
            )
        return f"déjà pris en compte, rien de nouveau — {said}" if self.earlier else said

    def as_details(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "pages": list(self.pages),
            "document_id": self.document_id,
            "draft_id": self.draft_id,
            "mail_id": self.mail_id,
            "chrono": self.chrono,
        }

    @classmethod
    def earlier_from(cls, details: Mapping[str, Any]) -> Outcome:
        return cls(
            kind="attached" if details.get("kind") == "attached" else "draft",
            pages=tuple(int(page) for page in details.get("pages", ())),
            document_id=int(details["document_id"]),
            draft_id=details.get("draft_id"),
            mail_id=details.get("mail_id"),
            chrono=str(details.get("chrono") or ""),
            earlier=True,
        )


@dataclass(frozen=True)
class DraftView:
    id: int
    state: str
    document_id: int
    version_id: int | None
    source_name: str
    page_count: int
    created_at: dt.datetime
    text_state: str
    has_thumbnail: bool
    reason: str = ""
    closed_at: dt.datetime | None = None

    @property
    def text_label(self) -> str:
        return text_state_label(self.text_state)


def parts_of(sheets: Sequence[Sheet | None]) -> list[Part]:
    """Cut a file's pages at its sheets; sheets are dropped, and so are empty draft parts."""
    parts: list[Part] = []
    chrono: str | None = None
    pages: list[int] = []
    started_by_cover = False

    def close() -> None:
        if pages:
            parts.append(Part(chrono, tuple(pages)))
        elif started_by_cover:
            raise ValidationError(
                "La feuille de couverture du courrier %(chrono)s n'est suivie d'aucune page.",
                chrono=chrono,
            )

    for number, sheet in enumerate(sheets):
        if sheet is None:
            pages.append(number)
            continue
        close()
        chrono = sheet.chrono if sheet.kind == "cover" else None
        started_by_cover = sheet.kind == "cover"
        pages = []
    close()
    if not parts:
        raise ValidationError("Ce fichier ne contient que des feuilles de séparation.")
    return parts


class Basket:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        store: FileStore,
        documents: Documents,
        registry: Registry,
        jobs: Jobs,
        settings: CaptureSettings,
        max_pages: int,
        max_file_bytes: int,
        work_root: Path,
        page_time_limit_s: float = 60.0,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._store = store
        self._documents = documents
        self._registry = registry
        self._jobs = jobs
        self._settings = settings
        self._max_pages = max_pages
        self._max_file_bytes = max_file_bytes
        self._work_root = work_root
        self._page_time_limit_s = page_time_limit_s

    # --- scans coming in ----------------------------------------------------------------------

    def ingest(self, actor: Actor, path: Path, name: str) -> list[Outcome]:
        """Take one scanned file whole, or refuse it (``OcrError``, ``GedError``) leaving nothing.

        A file already taken (same name, same bytes) creates nothing: what it gave the first
        time is returned, marked ``earlier``.
        """
        check_basket(actor)
        media_type = ocr.detect_media_type(path)
        size = path.stat().st_size
        if size == 0:
            raise ValidationError("Le fichier « %(name)s » est vide.", name=name)
        if size > self._max_file_bytes:
            raise ValidationError(
                "Le fichier « %(name)s » dépasse la taille maximale (%(megabytes)s Mo).",
                name=name,
                megabytes=self._max_file_bytes // (1024 * 1024),
            )
        digest, _ = file_sha256(path)
        with self._reader() as uow:
            earlier = _ingested(uow.session, digest, name)
        if earlier is not None:
            return earlier
        sheets = find_sheets(
            path, self._settings.sheet_dpi, self._max_pages, self._page_time_limit_s
        )
        parts = parts_of(sheets)
        has_sheets = any(sheet is not None for sheet in sheets)
        chronos = {part.chrono for part in parts if part.chrono is not None}
        with self._reader() as uow:
            mails = self._mails_by_chrono(uow.session, actor, chronos)
        workdir = self._work_root / f"intake-{secrets.token_hex(8)}"
        try:
            if has_sheets:
                # Images are cut into TIFFs: a JPEG or PNG is one page, which parts_of has
                # refused already if it is a sheet (an MPO or animated PNG has frames).
                split = split_pdf if media_type == ocr.detect.PDF else split_tiff
                files = split(path, [part.pages for part in parts], workdir)
                stem = Path(name).stem or "scan"
                names = [
                    f"{stem} ({_span(part.pages)}){file.suffix}"
                    for part, file in zip(parts, files, strict=True)
                ]
                media_type = ocr.detect.PDF if media_type == ocr.detect.PDF else ocr.detect.TIFF
            else:
                files, names = [path], [name]
            incoming = []
            for file, part, part_name in zip(files, parts, names, strict=True):
                with file.open("rb") as fh:
                    info = IncomingFile(fh, part_name[:255], media_type, len(part.pages))
                    incoming.append((info, self._documents.store_file(info)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        with self._writer() as uow:
            session = uow.session
            # Mail rows first, then the audit head (record): the order every mail writer keeps.
            locked = self._lock_mails(session, actor, sorted(mails.values()))
            outcomes = []
            for part, (info, stored) in zip(parts, incoming, strict=True):
                if part.chrono is not None:
                    mail = locked[mails[part.chrono]]
                    outcomes.append(self._attach(uow, actor, mail, part, info, stored, name))
                else:
                    outcomes.append(self._draft(uow, actor, part, info, stored, name))
            record(
                session,
                actor,
                AuditAction.SCAN_INGESTED,
                SCAN_OBJECT,
                digest,
                {
                    "name": name,
                    "size": size,
                    "outcomes": [outcome.as_details() for outcome in outcomes],
                },
            )
            uow.commit()
        return outcomes

    def _mails_by_chrono(self, session: Session, actor: Actor, chronos: set[str]) -> dict[str, int]:
        if not chronos:
            return {}
        found = dict(
            session.execute(
                select(Mail.chrono, Mail.id).where(
                    Mail.chrono.in_(chronos), visible_mail(session, actor)
                )
            ).all()
        )
        missing = sorted(chronos - set(found))
        if missing:
            raise ValidationError(
                "La feuille de couverture désigne un courrier introuvable : %(chronos)s.",
                chronos=", ".join(missing),
            )
        return found

    def _lock_mails(self, session: Session, actor: Actor, ids: Sequence[int]) -> dict[int, Mail]:
        if not ids:
            return {}
        # The ids alone: PostgreSQL refuses FOR UPDATE with the joined correspondent and type.
        found = session.execute(
            select(Mail.id)
            .where(Mail.id.in_(ids), visible_mail(session, actor))
            .order_by(Mail.id)
            .with_for_update()
        ).scalars()
        rows = [session.get_one(Mail, mail_id) for mail_id in found]
        locked = {mail.id: mail for mail in rows}
        if len(locked) != len(ids):
            raise NotFound("Courrier introuvable.")
        return locked

    def _attach(
        self,
        uow: UnitOfWork,
        actor: Actor,
        mail: Mail,
        part: Part,
        info: IncomingFile,
        stored: StoredFile,
        source: str,
    ) -> Outcome:
        session = uow.session
        addressed = session.execute(
            select(MailUnit.unit_id).where(MailUnit.mail_id == mail.id).limit(1)
        ).scalar_one_or_none()
        last = session.execute(
            select(func.max(MailDocument.position)).where(MailDocument.mail_id == mail.id)
        ).scalar_one()
        document = self._documents.create_in(
            session,
            actor,
            DocumentData(title=f"{mail.chrono} — {info.original_name}"[:500]),
            stored,
            info,
            unit_id=addressed,
        )
        session.add(
            MailDocument(mail_id=mail.id, document_id=document.id, position=(last or -1) + 1)
        )
        mail.updated_at = utcnow()
        record(
            session,
            actor,
            AuditAction.MAIL_SCAN_ATTACHED,
            "mail",
            mail.id,
            {"document_id": document.id, "source": source, "pages": len(part.pages)},
        )
        mail_id = mail.id
        uow.on_commit(lambda: self._jobs.enqueue(INDEX_MAIL, mail_id))
        return Outcome("attached", part.pages, document.id, mail_id=mail.id, chrono=mail.chrono)

    def _draft(
        self,
        uow: UnitOfWork,
        actor: Actor,
        part: Part,
        info: IncomingFile,
        stored: StoredFile,
        source: str,
    ) -> Outcome:
        session = uow.session
        # Confidential and in no unit: until it is qualified, only the basket shows it.
        document = self._documents.create_in(
            session,
            actor,
            DocumentData(
                title=DRAFT_TITLE.format(name=info.original_name)[:500], confidential=True
            ),
            stored,
            info,
            unit_id=None,
        )
        draft = CaptureDraft(
            document_id=document.id,
            state="draft",
            source_name=source[:255],
            first_page=part.pages[0] + 1,
            page_count=len(part.pages),
            created_by_id=actor.user_id,
        )
        session.add(draft)
        session.flush()
        record(
            session,
            actor,
            AuditAction.DRAFT_CREATED,
            "draft",
            draft.id,
            {"document_id": document.id, "source": source, "pages": len(part.pages)},
        )
        return Outcome("draft", part.pages, document.id, draft_id=draft.id)

    # --- the basket ---------------------------------------------------------------------------

    def drafts(self, actor: Actor, state: str = "draft", limit: int = 200) -> list[DraftView]:
        """Drafts waiting (oldest first), or the last discarded ones (newest first)."""
        check_basket(actor)
        if state not in ("draft", "discarded"):
            raise ValidationError("État de brouillon inconnu.")
        with self._reader() as uow:
            session = uow.session
            order = (
                (CaptureDraft.created_at, CaptureDraft.id)
                if state == "draft"
                else (CaptureDraft.closed_at.desc(), CaptureDraft.id.desc())
            )
            drafts = (
                session.execute(
                    select(CaptureDraft)
                    .where(CaptureDraft.state == state)
                    .order_by(*order)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            return [self._view(session, draft) for draft in drafts]

    def get(self, actor: Actor, draft_id: int) -> DraftView:
        check_basket(actor)
        with self._reader() as uow:
            draft = uow.session.get(CaptureDraft, draft_id)
            if draft is None:
                raise NotFound("Brouillon introuvable.")
            return self._view(uow.session, draft)

    def _view(self, session: Session, draft: CaptureDraft) -> DraftView:
        found = session.execute(
            select(Version.id, VersionText.state, VersionText.thumbnail_sha256)
            .outerjoin(VersionText, VersionText.version_id == Version.id)
            .where(Version.document_id == draft.document_id)
            .order_by(Version.number.desc())
            .limit(1)
        ).first()
        version_id, text_state, thumbnail = found if found else (None, "pending", None)
        return DraftView(
            id=draft.id,
            state=draft.state,
            document_id=draft.document_id,
            version_id=version_id,
            source_name=draft.source_name,
            page_count=draft.page_count,
            created_at=draft.created_at,
            text_state=text_state or "pending",
            has_thumbnail=bool(thumbnail),
            reason=draft.reason,
            closed_at=draft.closed_at,
        )

    def open_file(
        self, actor: Actor, draft_id: int, kind: Literal["thumbnail", "original"]
    ) -> tuple[str, str, BinaryIO]:
        """(name, media type, stream) of a draft's scan or its thumbnail; the scan's is audited."""
        check_basket(actor)
        with self._writer() as uow:
            session = uow.session
            draft = session.get(CaptureDraft, draft_id)
            if draft is None:
                raise NotFound("Brouillon introuvable.")
            found = session.execute(
                select(Version, VersionText)
                .outerjoin(VersionText, VersionText.version_id == Version.id)
                .where(Version.document_id == draft.document_id)
                .order_by(Version.number.desc())
                .limit(1)
            ).first()
            if found is None:
                raise NotFound("Fichier introuvable.")
            version, text = found
            if kind == "thumbnail":
                if text is None or not text.thumbnail_sha256:
                    raise NotFound("La vignette n'est pas (encore) disponible.")
                return "vignette.jpg", "image/jpeg", self._store.open(text.thumbnail_sha256)
            stream = self._store.open(version.sha256)
            try:
                record(
                    session,
                    actor,
                    AuditAction.DOCUMENT_DOWNLOADED,
                    "document",
                    draft.document_id,
                    {"version_id": version.id, "draft_id": draft.id},
                )
                uow.commit()
            except BaseException:
                stream.close()
                raise
            return version.original_name, version.media_type, stream

    def qualify(self, actor: Actor, draft_id: int, data: MailInput) -> Registered:
        """Register the draft as an incoming mail: chrono, documents and circuit in one go."""
        check_basket(actor)
        data = replace(data, direction=Direction.INCOMING.value)
        with self._writer() as uow:
            session = uow.session
            draft = self._lock_draft(session, draft_id, "draft")
            document = session.get(Document, draft.document_id)
            if document is None or document.deleted_at is not None:
                raise Conflict("Le document de ce brouillon n'est plus disponible.")

            def attach(session: Session, mail: Mail) -> list[str]:
                name = session.execute(
                    select(Version.original_name)
                    .where(Version.document_id == document.id)
                    .order_by(Version.number.desc())
                    .limit(1)
                ).scalar_one()
                session.add(MailDocument(mail_id=mail.id, document_id=document.id, position=0))
                # From now on the document follows its mail's visibility, as a registered
                # mail's files do.
                document.title = f"{mail.chrono} — {name}"[:500]
                document.confidential = False
                document.unit_id = data.unit_ids[0] if data.unit_ids else None
                document.updated_at = utcnow()
                return [name]

            registered = self._registry.register_in(uow, actor, data, attach)
            draft.state = "qualified"
            draft.mail_id = registered.id
            draft.closed_by_id = actor.user_id
            draft.closed_at = utcnow()
            record(
                session,
                actor,
                AuditAction.DRAFT_QUALIFIED,
                "draft",
                draft.id,
                {"mail_id": registered.id, "chrono": registered.chrono},
            )
            uow.commit()
            return registered

    def discard(self, actor: Actor, draft_id: int, reason: str) -> None:
        """Take a draft out of the basket; its document goes to the trash, never away."""
        check_basket(actor)
        reason = " ".join(reason.split())
        if len(reason) > MAX_REASON:
            raise ValidationError(
                "Le motif dépasse %(count)s caractères.", "reason", count=MAX_REASON
            )
        with self._writer() as uow:
            session = uow.session
            draft = self._lock_draft(session, draft_id, "draft")
            document = session.get(Document, draft.document_id)
            now = utcnow()
            if document is not None and document.deleted_at is None:
                document.deleted_at = document.updated_at = now
                document.deleted_by_id = actor.user_id
            draft.state = "discarded"
            draft.reason = reason
            draft.closed_by_id = actor.user_id
            draft.closed_at = now
            record(
                session,
                actor,
                AuditAction.DRAFT_DISCARDED,
                "draft",
                draft.id,
                {"document_id": draft.document_id, "reason": reason},
            )
            document_id = draft.document_id
            uow.on_commit(lambda: self._jobs.enqueue(INDEX_DOCUMENT, document_id))
            uow.commit()

    def restore(self, actor: Actor, draft_id: int) -> None:
        """Put a discarded draft back in the basket, its document out of the trash."""
        check_basket(actor)
        with self._writer() as uow:
            session = uow.session
            draft = self._lock_draft(session, draft_id, "discarded")
            document = session.get(Document, draft.document_id)
            if document is not None and document.deleted_at is not None:
                document.deleted_at = None
                document.deleted_by_id = None
                document.updated_at = utcnow()
            draft.state = "draft"
            draft.reason = ""
            draft.closed_by_id = None
            draft.closed_at = None
            record(
                session,
                actor,
                AuditAction.DOCUMENT_RESTORED,
                "document",
                draft.document_id,
                {"draft_id": draft.id},
            )
            uow.commit()

    def _lock_draft(self, session: Session, draft_id: int, state: str) -> CaptureDraft:
        draft = session.execute(
            select(CaptureDraft).where(CaptureDraft.id == draft_id).with_for_update()
        ).scalar_one_or_none()
        if draft is None:
            raise NotFound("Brouillon introuvable.")
        if draft.state != state:
            raise Conflict(
                "Ce brouillon a déjà été qualifié ou écarté."
                if state == "draft"
                else "Ce brouillon n'est pas écarté."
            )
        return draft

    # --- sheets -------------------------------------------------------------------------------

    def cover_sheet(self, actor: Actor, mail_id: int) -> tuple[str, bytes]:
        """The cover sheet PDF of a mail the actor sees and may add files to."""
        if not may_print_cover_sheets(actor):
            raise PermissionDenied("Un auditeur ne numérise aucun courrier.")
        with self._reader() as uow:
            session = uow.session
            mail = session.execute(
                select(Mail).where(Mail.id == mail_id, visible_mail(session, actor))
            ).scalar_one_or_none()
            if mail is None:
                raise NotFound("Courrier introuvable.")
            label = CoverLabel(
                chrono=mail.chrono,
                subject=mail.subject,
                mail_date=mail.mail_date,
                correspondent=mail.correspondent.name if mail.correspondent else "",
                # Printed in the language of whoever prints it, as their pages are.
                locale=session.execute(
                    select(User.locale).where(User.id == actor.user_id)
                ).scalar_one_or_none()
                or Locale.FR.value,
            )
        return mail.chrono, cover_sheet_pdf(label)

    def separator_sheet(self, actor: Actor) -> bytes:
        check_basket(actor)
        return separator_sheet_pdf()


def may_use_basket(actor: Actor) -> bool:
    return actor.user_id is None or actor.role in (Role.ADMIN, Role.REGISTRAR)


def may_print_cover_sheets(actor: Actor) -> bool:
    """Whoever sees a mail may scan papers for it, except auditors, who only read."""
    return actor.role is not Role.AUDITOR


def check_basket(actor: Actor) -> None:
    if not may_use_basket(actor):
        raise PermissionDenied("Seuls le bureau d'ordre et l'administrateur qualifient les scans.")


def _ingested(session: Session, digest: str, name: str) -> list[Outcome] | None:
    """What the file of this name and content gave when it was taken, if it was."""
    events = session.execute(
        select(AuditEvent.details)
        .where(
            AuditEvent.object_type == SCAN_OBJECT,
            AuditEvent.object_id == digest,
            AuditEvent.action == AuditAction.SCAN_INGESTED.value,
        )
        .order_by(AuditEvent.id)
    ).scalars()
    for details in events:
        if details.get("name") == name:
            return [Outcome.earlier_from(found) for found in details.get("outcomes", ())]
    return None


def _span(pages: Sequence[int]) -> str:
    first, last = pages[0] + 1, pages[-1] + 1
    return f"p. {first}" if first == last else f"p. {first}-{last}"
