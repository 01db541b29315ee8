"""Documents and their immutable versions (the GED library, and the files of every mail).

Bytes reach the store before the row that names them; a refused file is refused before any
byte is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ged.adapters.db import escape_like
from ged.adapters.jobs import Jobs
from ged.adapters.orm import (
    Classification,
    Document,
    DocumentTag,
    Unit,
    User,
    Version,
    VersionText,
)
from ged.adapters.storage import FileStore, StoredFile
from ged.adapters.uow import UnitOfWork
from ged.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Role
from ged.jobs import EXTRACT_TEXT, INDEX_DOCUMENT
from ged.services.audit import Actor, record
from ged.services.permissions import visible_document
from ocr.detect import ACCEPTED_TYPES, sniff

MAX_TAGS = 20
# Enough for every signature ``ocr.detect.sniff`` tells apart.
HEAD_BYTES = 16


@dataclass(frozen=True)
class IncomingFile:
    """A checked file as the web, API or CLI layer hands it over (see ``uploads.check_upload``)."""

    stream: BinaryIO
    original_name: str
    media_type: str
    page_count: int | None = None


@dataclass(frozen=True)
class DocumentData:
    title: str
    description: str = ""
    classification_id: int | None = None
    unit_id: int | None = None
    confidential: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentView:
    document: Document
    versions: Sequence[Version]
    tags: Sequence[str]
    classification: Classification | None
    # Full names of the document's and versions' authors, by user id, for the history.
    authors: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentFilter:
    text: str = ""
    classification_id: int | None = None
    tag: str = ""
    trash: bool = False
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class DocumentPage:
    rows: Sequence[tuple[Document, Version | None]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def accepted_media_type(head: bytes, name: str) -> str:
    """The media type of a file by its first bytes; refused unless PDF, JPEG, PNG or TIFF."""
    media_type = sniff(head)
    if media_type not in ACCEPTED_TYPES:
        raise ValidationError(
            "Le fichier « %(name)s » n'est pas un PDF, JPEG, PNG ou TIFF (d'après son contenu, "
            "quelle que soit son extension).",
            "files",
            name=name,
        )
    return media_type


def checked_content(file: IncomingFile) -> IncomingFile:
    """The file with the media type its bytes announce, whatever the caller declared.

    ``uploads.check_upload`` already refuses the rest; the library checks again so that no
    caller (API, import, a future screen) can store an SVG or HTML file labelled as a PDF.
    """
    head = file.stream.read(HEAD_BYTES)
    file.stream.seek(0)
    if not head:
        raise ValidationError("Le fichier « %(name)s » est vide.", "files", name=file.original_name)
    media_type = accepted_media_type(head, file.original_name)
    if media_type == file.media_type:
        return file
    return dataclasses.replace(file, media_type=media_type)


def normalise_tags(tags: Sequence[str]) -> tuple[str, ...]:
    cleaned = []
    for tag in tags:
        value = " ".join(tag.strip().lower().split())[:64]
        if value and value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError("%(count)s étiquettes au plus.", "tags", count=MAX_TAGS)
    return tuple(cleaned)


class Documents:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        store: FileStore,
        max_file_bytes: int,
        jobs: Jobs,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._store = store
        self._max = max_file_bytes
        self._jobs = jobs

    def _reindex_after_commit(self, uow: UnitOfWork, document_id: int) -> None:
        uow.on_commit(lambda: self._jobs.enqueue(INDEX_DOCUMENT, document_id))

    def _extract_after_commit(self, session: Session, version_id: int) -> None:
        """OCR the new version once its row is committed (the sweep finds it if this is lost)."""
        UnitOfWork.of(session).on_commit(lambda: self._jobs.enqueue(EXTRACT_TEXT, version_id))

    # --- writing ------------------------------------------------------------------------------

    def store_file(self, file: IncomingFile) -> StoredFile:
        return self._store.put(file.stream, max_bytes=self._max)

    def create(self, actor: Actor, data: DocumentData, file: IncomingFile) -> int:
        """A new library document with its first version."""
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("Un auditeur ne peut pas ajouter de document.")
        _validate(data)
        file = checked_content(file)
        with self._reader() as uow:  # refused before any byte is stored: no orphan file
            _check_references(uow.session, data)
        stored = self.store_file(file)
        with self._writer() as uow:
            unit_id = data.unit_id if data.unit_id is not None else actor.unit_id
            document = self.create_in(uow.session, actor, data, stored, file, unit_id)
            self._reindex_after_commit(uow, document.id)
            uow.commit()
            return document.id

    def create_in(
        self,
        session: Session,
        actor: Actor,
        data: DocumentData,
        stored: StoredFile,
        file: IncomingFile,
        unit_id: int | None,
    ) -> Document:
        """Create a document and version 1 in the caller's transaction (mail registration)."""
        if data.classification_id is not None and not session.get(
            Classification, data.classification_id
        ):
            raise ValidationError("Cette rubrique du plan de classement n'existe pas.")
        document = Document(
            title=data.title.strip(),
            description=data.description.strip(),
            created_by_id=actor.user_id,
            unit_id=unit_id,
            confidential=data.confidential,
            classification_id=data.classification_id,
        )
        session.add(document)
        session.flush()
        for tag in normalise_tags(data.tags):
            session.add(DocumentTag(document_id=document.id, tag=tag))
        version = _add_version(session, actor, document.id, 1, stored, file)
        self._extract_after_commit(session, version.id)
        record(
            session,
            actor,
            AuditAction.DOCUMENT_CREATED,
            "document",
            document.id,
            {"title": document.title, "version_id": version.id, "sha256": stored.sha256},
        )
        return document

    def add_version(self, actor: Actor, document_id: int, file: IncomingFile) -> int:
        with self._reader() as uow:  # refused before any byte is stored: no orphan file
            self._writable(uow.session, actor, document_id)
        file = checked_content(file)
        stored = self.store_file(file)
        with self._writer() as uow:
            document = self._writable(uow.session, actor, document_id)
            last = uow.session.execute(
                select(func.max(Version.number)).where(Version.document_id == document_id)
            ).scalar_one()
            version = _add_version(uow.session, actor, document.id, (last or 0) + 1, stored, file)
            self._extract_after_commit(uow.session, version.id)
            document.updated_at = uow.now()
            self._reindex_after_commit(uow, document.id)
            uow.commit()
            return version.id

    def update(self, actor: Actor, document_id: int, data: DocumentData) -> None:
        """Edit metadata, classification (moving it in the plan) and tags."""
        _validate(data)
        with self._writer() as uow:
            document = self._writable(uow.session, actor, document_id)
            if data.classification_id is not None and not uow.session.get(
                Classification, data.classification_id
            ):
                raise ValidationError("Cette rubrique du plan de classement n'existe pas.")
            before = _document_dict(uow.session, document)
            document.title = data.title.strip()
            document.description = data.description.strip()
            document.classification_id = data.classification_id
            document.confidential = data.confidential
            if data.unit_id is not None:
                document.unit_id = data.unit_id
            tags = normalise_tags(data.tags)
            for row in uow.session.execute(
                select(DocumentTag).where(DocumentTag.document_id == document.id)
            ).scalars():
                uow.session.delete(row)
            uow.session.flush()
            for tag in tags:
                uow.session.add(DocumentTag(document_id=document.id, tag=tag))
            document.updated_at = uow.now()
            after = _document_dict(uow.session, document)
            after["tags"] = list(tags)
            changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
            record(
                uow.session, actor, AuditAction.DOCUMENT_UPDATED, "document", document.id, changes
            )
            uow.commit()

    def set_legal_hold(self, actor: Actor, document_id: int, hold: bool, reason: str) -> None:
        if actor.user_id is not None and actor.role not in (Role.ADMIN, Role.REGISTRAR):
            raise PermissionDenied("Seuls l'administrateur et le bureau d'ordre gèrent le gel.")
        if not reason.strip():
            raise ValidationError("Indiquez le motif du gel ou de sa levée.", "reason")
        with self._writer() as uow:
            document = self._visible(uow.session, actor, document_id)
            document.legal_hold = hold
            action = AuditAction.DOCUMENT_HOLD_SET if hold else AuditAction.DOCUMENT_HOLD_RELEASED
            record(uow.session, actor, action, "document", document.id, {"reason": reason[:500]})
            uow.commit()

    def delete(self, actor: Actor, document_id: int) -> None:
        """Move to the trash; a document under legal hold cannot be deleted, even by an admin."""
        with self._writer() as uow:
            document = self._writable(uow.session, actor, document_id)
            if document.legal_hold:
                raise Conflict("Ce document est sous gel juridique : il ne peut pas être supprimé.")
            document.deleted_at = document.updated_at = uow.now()
            document.deleted_by_id = actor.user_id
            record(uow.session, actor, AuditAction.DOCUMENT_DELETED, "document", document.id)
            self._reindex_after_commit(uow, document.id)
            uow.commit()

    def restore(self, actor: Actor, document_id: int) -> None:
        with self._writer() as uow:
            document = self._visible(uow.session, actor, document_id, include_deleted=True)
            self._check_can_write(actor, document)
            if document.deleted_at is None:
                raise Conflict("Ce document n'est pas dans la corbeille.")
            document.deleted_at = None
            document.deleted_by_id = None
            document.updated_at = uow.now()
            record(uow.session, actor, AuditAction.DOCUMENT_RESTORED, "document", document.id)
            self._reindex_after_commit(uow, document.id)
            uow.commit()

    # --- reading ------------------------------------------------------------------------------

    def get(self, actor: Actor, document_id: int, include_deleted: bool = False) -> DocumentView:
        with self._reader() as uow:
            document = self._visible(uow.session, actor, document_id, include_deleted)
            versions = (
                uow.session.execute(
                    select(Version)
                    .where(Version.document_id == document.id)
                    .order_by(Version.number.desc())
                )
                .scalars()
                .all()
            )
            tags = (
                uow.session.execute(
                    select(DocumentTag.tag)
                    .where(DocumentTag.document_id == document.id)
                    .order_by(DocumentTag.tag)
                )
                .scalars()
                .all()
            )
            classification = (
                uow.session.get(Classification, document.classification_id)
                if document.classification_id
                else None
            )
            author_ids = {v.created_by_id for v in versions} | {document.created_by_id}
            authors = dict(
                uow.session.execute(
                    select(User.id, User.full_name).where(
                        User.id.in_([i for i in author_ids if i is not None])
                    )
                ).all()
            )
            return DocumentView(document, versions, tags, classification, authors)

    def open_version(
        self, actor: Actor, document_id: int, version_id: int | None = None
    ) -> tuple[Version, BinaryIO]:
        """The bytes of a version the actor may see; every download is audited."""
        with self._writer() as uow:
            document = self._visible(uow.session, actor, document_id)
            query = select(Version).where(Version.document_id == document.id)
            if version_id is not None:
                query = query.where(Version.id == version_id)
            version = uow.session.execute(
                query.order_by(Version.number.desc()).limit(1)
            ).scalar_one_or_none()
            if version is None:
                raise NotFound("Version introuvable.")
            stream = self._store.open(version.sha256)
            try:
                record(
                    uow.session,
                    actor,
                    AuditAction.DOCUMENT_DOWNLOADED,
                    "document",
                    document.id,
                    {"version_id": version.id},
                )
                uow.commit()
            except BaseException:
                stream.close()  # no audit, no bytes: and no file handle left open
                raise
            return version, stream

    def search(self, actor: Actor, query: DocumentFilter) -> DocumentPage:
        with self._reader() as uow:
            session = uow.session
            conditions: list[ColumnElement[bool]] = [visible_document(session, actor)]
            if query.trash:
                conditions.append(Document.deleted_at.is_not(None))
            else:
                conditions.append(Document.deleted_at.is_(None))
            if query.text.strip():
                conditions.append(
                    Document.title.ilike(f"%{escape_like(query.text.strip())}%", escape="\\")
                )
            if query.classification_id is not None:
                conditions.append(Document.classification_id == query.classification_id)
            if query.tag.strip():
                conditions.append(
                    Document.id.in_(
                        select(DocumentTag.document_id).where(
                            DocumentTag.tag == query.tag.strip().lower()
                        )
                    )
                )
            total = session.execute(
                select(func.count()).select_from(Document).where(*conditions)
            ).scalar_one()
            page = max(1, query.page)
            per_page = min(max(1, query.per_page), 200)
            latest = (
                select(Version.document_id, func.max(Version.number).label("number"))
                .group_by(Version.document_id)
                .subquery()
            )
            rows = session.execute(
                select(Document, Version)
                .outerjoin(latest, latest.c.document_id == Document.id)
                .outerjoin(
                    Version,
                    (Version.document_id == Document.id) & (Version.number == latest.c.number),
                )
                .where(*conditions)
                .order_by(Document.updated_at.desc(), Document.id.desc())
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
            return DocumentPage([(d, v) for d, v in rows], total, page, per_page)

    def classifications(self) -> Sequence[Classification]:
        with self._reader() as uow:
            return (
                uow.session.execute(select(Classification).order_by(Classification.code))
                .scalars()
                .all()
            )

    def create_classification(
        self, actor: Actor, code: str, name: str, parent_id: int | None = None
    ) -> int:
        if actor.user_id is not None and actor.role is not Role.ADMIN:
            raise PermissionDenied("Seul un administrateur modifie le plan de classement.")
        code = code.strip().upper()
        if not code or len(code) > 32 or not name.strip():
            raise ValidationError("Code (32 caractères au plus) et nom obligatoires.")
        with self._writer() as uow:
            if uow.session.execute(
                select(Classification.id).where(Classification.code == code)
            ).first():
                raise Conflict("La rubrique %(code)s existe déjà.", code=code)
            if parent_id is not None and uow.session.get(Classification, parent_id) is None:
                raise ValidationError("La rubrique parente n'existe pas.")
            row = Classification(code=code, name=name.strip()[:200], parent_id=parent_id)
            uow.session.add(row)
            uow.session.flush()
            record(
                uow.session,
                actor,
                AuditAction.CLASSIFICATION_CREATED,
                "classification",
                row.id,
                {"code": code, "name": row.name},
            )
            uow.commit()
            return row.id

    # --- rules --------------------------------------------------------------------------------

    def _visible(
        self, session: Session, actor: Actor, document_id: int, include_deleted: bool = False
    ) -> Document:
        document = session.execute(
            select(Document).where(Document.id == document_id, visible_document(session, actor))
        ).scalar_one_or_none()
        # Not found and not allowed look the same: no one learns what exists.
        if document is None or (document.deleted_at is not None and not include_deleted):
            raise NotFound("Document introuvable.")
        return document

    def _writable(self, session: Session, actor: Actor, document_id: int) -> Document:
        document = self._visible(session, actor, document_id)
        self._check_can_write(actor, document)
        return document

    def visible(self, session: Session, actor: Actor, document_id: int) -> Document:
        """The document if ``actor`` may see it (NotFound otherwise), in the caller's session."""
        return self._visible(session, actor, document_id)

    def writable(self, session: Session, actor: Actor, document_id: int) -> Document:
        """The document if ``actor`` may change it, in the caller's session."""
        return self._writable(session, actor, document_id)

    @staticmethod
    def _check_can_write(actor: Actor, document: Document) -> None:
        if actor.user_id is None or actor.role is Role.ADMIN:
            return
        if actor.role is Role.AUDITOR:
            raise PermissionDenied("Un auditeur ne modifie aucun document.")
        if document.created_by_id == actor.user_id:
            return
        if actor.role in (Role.MANAGER, Role.REGISTRAR) or (
            actor.unit_id is not None and document.unit_id == actor.unit_id
        ):
            return
        raise PermissionDenied("Vous ne pouvez pas modifier ce document.")


def _add_version(
    session: Session,
    actor: Actor,
    document_id: int,
    number: int,
    stored: StoredFile,
    file: IncomingFile,
) -> Version:
    version = Version(
        document_id=document_id,
        number=number,
        sha256=stored.sha256,
        size=stored.size,
        media_type=file.media_type[:100],
        original_name=file.original_name[:255] or "document",
        page_count=file.page_count,
        created_by_id=actor.user_id,
    )
    session.add(version)
    session.flush()
    # Text extraction state, in the same transaction: a version never exists without it.
    # No languages: the instance's configured set ([ocr] languages) when the job runs.
    session.add(VersionText(version_id=version.id, state="pending", languages=""))
    record(
        session,
        actor,
        AuditAction.VERSION_ADDED,
        "version",
        version.id,
        {"document_id": document_id, "number": number, "sha256": stored.sha256},
    )
    return version


def _check_references(session: Session, data: DocumentData) -> None:
    if data.classification_id is not None and not session.get(
        Classification, data.classification_id
    ):
        raise ValidationError(
            "Cette rubrique du plan de classement n'existe pas.", "classification_id"
        )
    if data.unit_id is not None and not session.get(Unit, data.unit_id):
        raise ValidationError("Cette entité n'existe pas.", "unit_id")


def _validate(data: DocumentData) -> None:
    title = data.title.strip()
    if not title or len(title) > 500:
        raise ValidationError("Le titre est obligatoire (500 caractères au plus).", "title")
    if len(data.description) > 10_000:
        raise ValidationError("La description est trop longue (10 000 caractères au plus).")


def _document_dict(session: Session, document: Document) -> dict[str, object]:
    tags = (
        session.execute(
            select(DocumentTag.tag)
            .where(DocumentTag.document_id == document.id)
            .order_by(DocumentTag.tag)
        )
        .scalars()
        .all()
    )
    return {
        "title": document.title,
        "description": document.description,
        "classification_id": document.classification_id,
        "confidential": document.confidential,
        "unit_id": document.unit_id,
        "tags": list(tags),
    }
