"""Text extraction of stored versions: the OCR job, its state per version, retry and sweep.

Every version gets a ``VersionText`` row (state ``pending``) in the transaction that creates it
(``services.documents``) and an ``extract_text`` job after that commit. The job (``extract``)
runs the pure ``ocr`` pipeline on the stored file in a work directory of its own, stores the
searchable PDF and the thumbnail (files before rows), then in one transaction replaces the
version's pages, marks it done and touches its document or mail so that the index follows.

A file the pipeline refuses (``OcrError``) fails for good with its French reason: running it
again would give the same answer, so only a person's "retry" does. Anything else (a database
hiccup, a full disk, a killed child) counts an attempt and raises so that Huey retries with
back-off; after ``MAX_ATTEMPTS`` the version fails with an internal reason. The sweep
(``requeue_lost``) re-enqueues versions left pending (a job lost between commit and enqueue) or
running (a killed worker) for too long.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

import ocr
from ged.adapters.jobs import Jobs
from ged.adapters.orm import (
    Document,
    Mail,
    MailDocument,
    PageText,
    Version,
    VersionText,
    utcnow,
)
from ged.adapters.storage import FileStore
from ged.adapters.uow import UnitOfWork
from ged.config import CaptureSettings
from ged.domain.errors import Conflict, NotFound
from ged.domain.model import AuditAction
from ged.jobs import EXTRACT_TEXT, INDEX_DOCUMENT, INDEX_MAIL
from ged.services.audit import Actor, record
from ged.services.documents import Documents
from ged.services.permissions import visible_document

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
INTERNAL_ERROR = "internal"
INTERNAL_REASON = (
    "La lecture du fichier a échoué plusieurs fois pour une raison technique ; "
    "relancez l'OCR ou prévenez l'administrateur."
)
Derived = Literal["thumbnail", "searchable"]


@dataclass(frozen=True)
class TextState:
    """What a page shows about one version's text extraction."""

    version_id: int
    state: str  # pending, running, done, failed
    attempts: int = 0
    error_code: str = ""
    error: str = ""
    page_count: int = 0
    mean_confidence: float | None = None
    has_thumbnail: bool = False
    has_searchable: bool = False

    @property
    def label(self) -> str:
        return text_state_label(self.state)


# The one wording of each state, for the document page and the basket alike (in French, as
# every label here; translated by the web layer, which lists them in web/domain_labels.py).
TEXT_STATE_LABELS = {
    "pending": "OCR en attente",
    "running": "OCR en cours",
    "done": "OCR terminé",
    "failed": "OCR en échec",
}


def text_state_label(state: str) -> str:
    return TEXT_STATE_LABELS.get(state, state)


class TextExtraction:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        store: FileStore,
        documents: Documents,
        jobs: Jobs,
        settings: ocr.OcrSettings,
        capture: CaptureSettings,
        work_root: Path,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._store = store
        self._documents = documents
        self._jobs = jobs
        self._settings = settings
        self._capture = capture
        self._work_root = work_root

    # --- the job ------------------------------------------------------------------------------

    def extract(self, version_id: int) -> str:
        """Read one version's text; idempotent. Returns the state it leaves (for logs and tests)."""
        claimed = self._claim(version_id)
        if claimed is None:
            return "skipped"
        sha256, languages = claimed
        workdir = self._work_root / f"version-{version_id}"
        try:
            shutil.rmtree(workdir, ignore_errors=True)  # a killed run's leftovers
            workdir.mkdir(parents=True)
            settings = dataclasses.replace(self._settings, languages=languages)
            try:
                result = ocr.process(self._store.path_for(sha256), settings, workdir)
            except ocr.OcrError as exc:
                self._fail(version_id, exc.code, exc.reason)
                return "failed"
            # Files before rows: a crash here leaves an unreferenced file, never a dangling row.
            with result.searchable_pdf.open("rb") as fh:
                searchable = self._store.put(fh).sha256
            with result.thumbnail.open("rb") as fh:
                thumbnail = self._store.put(fh).sha256
            self._record(version_id, result, searchable, thumbnail)
            return "done"
        except Exception as exc:
            self._attempt_failed(version_id, exc)
            raise
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _claim(self, version_id: int) -> tuple[str, str] | None:
        """Mark the version running; None if it is done, failed, gone or another worker's."""
        with self._writer() as uow:
            session = uow.session
            version = session.get(Version, version_id)
            if version is None:
                return None
            row = session.execute(
                select(VersionText).where(VersionText.version_id == version_id).with_for_update()
            ).scalar_one_or_none()
            if row is None:  # a version from before text extraction existed
                row = VersionText(version_id=version_id, state="pending", attempts=0)
                session.add(row)
            now = utcnow()
            if row.state in ("done", "failed"):
                return None
            if row.state == "running" and row.updated_at > now - self._stale_after:
                return None  # another worker is on it
            row.state = "running"
            row.updated_at = now
            languages = row.languages or self._settings.languages
            uow.commit()
            return version.sha256, languages

    def _record(
        self, version_id: int, result: ocr.OcrResult, searchable: str, thumbnail: str
    ) -> None:
        with self._writer() as uow:
            session = uow.session
            row = session.get(VersionText, version_id)
            version = session.get(Version, version_id)
            if row is None or version is None or row.state != "running":
                return  # reset or finished meanwhile: the other run's result stands
            session.execute(delete(PageText).where(PageText.version_id == version_id))
            session.add_all(
                PageText(
                    version_id=version_id,
                    page=page.number,
                    text=page.text.replace("\x00", ""),
                    confidence=page.confidence,
                    language=page.language[:32],
                    source=page.source,
                )
                for page in result.pages
            )
            now = utcnow()
            row.state = "done"
            row.error_code = row.error = ""
            row.searchable_sha256 = searchable
            row.thumbnail_sha256 = thumbnail
            row.updated_at = now
            self._touch_owner(uow, version.document_id, now)
            uow.commit()

    def _touch_owner(self, uow: UnitOfWork, document_id: int, now: dt.datetime) -> None:
        """The text changed what the index holds: mark the mail or document for reindexing."""
        session = uow.session
        document = session.get(Document, document_id)
        if document is not None:
            document.updated_at = now
        mail_id = session.execute(
            select(MailDocument.mail_id).where(MailDocument.document_id == document_id)
        ).scalar_one_or_none()
        if mail_id is not None:
            mail = session.get(Mail, mail_id)
            if mail is not None:
                mail.updated_at = now
            uow.on_commit(lambda: self._jobs.enqueue(INDEX_MAIL, mail_id))
        else:
            uow.on_commit(lambda: self._jobs.enqueue(INDEX_DOCUMENT, document_id))

    def _fail(self, version_id: int, code: str, reason: str) -> None:
        with self._writer() as uow:
            row = uow.session.get(VersionText, version_id)
            if row is None:
                return
            row.state = "failed"
            row.error_code = code[:32]
            row.error = reason[:500]
            row.updated_at = utcnow()
            uow.commit()
        logger.info("OCR of version %s refused (%s): %s", version_id, code, reason)

    def _attempt_failed(self, version_id: int, exc: Exception) -> None:
        """Count the attempt; back to pending for Huey's retry, or failed after too many."""
        try:
            with self._writer() as uow:
                row = uow.session.get(VersionText, version_id)
                if row is None:
                    return
                row.attempts += 1
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = "failed"
                    row.error_code = INTERNAL_ERROR
                    row.error = INTERNAL_REASON
                else:
                    row.state = "pending"
                    row.error = f"{type(exc).__name__}: {exc}"[:500]
                row.updated_at = utcnow()
                uow.commit()
        except Exception:
            logger.exception("could not record the failed OCR attempt of version %s", version_id)

    @property
    def _stale_after(self) -> dt.timedelta:
        return dt.timedelta(minutes=self._capture.stale_minutes)

    # --- the sweep ----------------------------------------------------------------------------

    def requeue_lost(self, limit: int = 500) -> list[int]:
        """Versions pending or running for too long, set back to pending; the caller enqueues.

        Pending for more than ``sweep_minutes`` (its job was lost between commit and enqueue) or
        running for more than ``stale_minutes`` (its worker was killed). Touching ``updated_at``
        keeps a long queue from being re-enqueued at every sweep.
        """
        now = utcnow()
        pending_before = now - dt.timedelta(minutes=max(1, self._capture.sweep_minutes))
        running_before = now - self._stale_after
        with self._writer() as uow:
            rows = (
                uow.session.execute(
                    select(VersionText)
                    .where(
                        or_(
                            and_(
                                VersionText.state == "pending",
                                VersionText.updated_at < pending_before,
                            ),
                            and_(
                                VersionText.state == "running",
                                VersionText.updated_at < running_before,
                            ),
                        )
                    )
                    .order_by(VersionText.updated_at)
                    .limit(limit)
                    .with_for_update()
                )
                .scalars()
                .all()
            )
            for row in rows:
                row.state = "pending"
                row.updated_at = now
            ids = [row.version_id for row in rows]
            uow.commit()
        return ids

    # --- people -------------------------------------------------------------------------------

    def retry(self, actor: Actor, version_id: int, document_id: int | None = None) -> None:
        """Set a failed version back to pending and enqueue it; audited.

        Allowed to whoever may change the document (administrators and the bureau d'ordre
        included, see ``Documents.writable``).
        """
        with self._writer() as uow:
            session = uow.session
            version = session.get(Version, version_id)
            if version is None or document_id not in (None, version.document_id):
                raise NotFound("Version introuvable.")
            self._documents.writable(session, actor, version.document_id)
            row = session.get(VersionText, version_id)
            if row is None:
                row = VersionText(version_id=version_id, state="failed", attempts=0)
                session.add(row)
            elif row.state != "failed":
                raise Conflict("Seul un OCR en échec peut être relancé.")
            previous = {"error_code": row.error_code, "error": row.error}
            row.state = "pending"
            row.attempts = 0
            row.error_code = row.error = ""
            row.updated_at = utcnow()
            record(
                session,
                actor,
                AuditAction.OCR_RETRIED,
                "version",
                version_id,
                {"document_id": version.document_id, **previous},
            )
            uow.on_commit(lambda: self._jobs.enqueue(EXTRACT_TEXT, version_id))
            uow.commit()

    def states(self, actor: Actor, document_ids: Sequence[int]) -> Mapping[int, TextState]:
        """The text state of every version of these documents the actor may see, by version id."""
        if not document_ids:
            return {}
        with self._reader() as uow:
            session = uow.session
            rows = session.execute(
                select(Version.id, VersionText)
                .join(Document, Document.id == Version.document_id)
                .outerjoin(VersionText, VersionText.version_id == Version.id)
                .where(Version.document_id.in_(document_ids), visible_document(session, actor))
            ).all()
            done = [vid for vid, row in rows if row is not None and row.state == "done"]
            pages = _page_summaries(session, done)
            states: dict[int, TextState] = {}
            for version_id, row in rows:
                if row is None:
                    states[version_id] = TextState(version_id, "pending")
                    continue
                count, confidence = pages.get(version_id, (0, None))
                states[version_id] = TextState(
                    version_id=version_id,
                    state=row.state,
                    attempts=row.attempts,
                    error_code=row.error_code,
                    error=row.error,
                    page_count=count,
                    mean_confidence=confidence,
                    has_thumbnail=bool(row.thumbnail_sha256),
                    has_searchable=bool(row.searchable_sha256),
                )
            return states

    def open_derived(
        self, actor: Actor, document_id: int, kind: Derived, version_id: int | None = None
    ) -> tuple[Version, BinaryIO]:
        """The thumbnail or searchable PDF of a version the actor may see (latest by default).

        The searchable PDF carries the whole document: its download is audited like the
        original's. The thumbnail is not: it is part of the document page (audited or not as
        that page is) and a low-resolution picture of the first page only.
        """
        with self._writer() as uow:
            session = uow.session
            document = self._documents.visible(session, actor, document_id)
            query = (
                select(Version, VersionText)
                .join(VersionText, VersionText.version_id == Version.id)
                .where(Version.document_id == document.id)
            )
            if version_id is not None:
                query = query.where(Version.id == version_id)
            found = session.execute(query.order_by(Version.number.desc()).limit(1)).first()
            if found is None:
                raise NotFound("Version introuvable.")
            version, row = found
            sha256 = row.thumbnail_sha256 if kind == "thumbnail" else row.searchable_sha256
            if not sha256:
                raise NotFound("Ce fichier n'est pas (encore) disponible.")
            stream = self._store.open(sha256)
            if kind == "searchable":
                try:
                    record(
                        session,
                        actor,
                        AuditAction.DOCUMENT_DOWNLOADED,
                        "document",
                        document.id,
                        {"version_id": version.id, "derived": "searchable"},
                    )
                    uow.commit()
                except BaseException:
                    stream.close()
                    raise
            return version, stream


def _page_summaries(
    session: Session, version_ids: Sequence[int]
) -> dict[int, tuple[int, float | None]]:
    if not version_ids:
        return {}
    rows = session.execute(
        select(PageText.version_id, func.count(), func.avg(PageText.confidence))
        .where(PageText.version_id.in_(version_ids))
        .group_by(PageText.version_id)
    ).all()
    return {vid: (int(count), None if avg is None else float(avg)) for vid, count, avg in rows}
