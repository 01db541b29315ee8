"""Full-text search use cases: query with permissions, and keep the index in step with the DB.

Only the background worker writes the index (``index_mail``, ``index_document``, ``reindex``):
the search engines want one writer. Web requests only read.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ged.adapters.orm import (
    Document,
    DocumentTag,
    Mail,
    MailDocument,
    MailPerson,
    MailUnit,
    PageText,
    Task,
    Version,
    utcnow,
)
from ged.adapters.uow import UnitOfWork
from ged.domain.search import IndexedItem, SearchHit, SearchIndex, SearchQuery, SearchResults
from ged.services.audit import Actor
from ged.services.permissions import search_visibility

BATCH = 500

logger = logging.getLogger(__name__)


class Search:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        index: SearchIndex,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self.index = index
        self._rebuilding = threading.Lock()

    # --- reading ------------------------------------------------------------------------------

    def search(self, actor: Actor, query: SearchQuery) -> SearchResults:
        with self._reader() as uow:
            visibility = search_visibility(uow.session, actor)
        return self.index.search(query, visibility)

    def lookup_chrono(self, actor: Actor, prefix: str, limit: int = 10) -> list[SearchHit]:
        with self._reader() as uow:
            visibility = search_visibility(uow.session, actor)
        return self.index.lookup_chrono(prefix, visibility, limit)

    # --- writing (worker only) ----------------------------------------------------------------

    def index_mail(self, mail_id: int) -> None:
        with self._writer() as uow:
            mail = uow.session.get(Mail, mail_id)
            if mail is None:
                self.index.delete([f"mail:{mail_id}"])
                return
            started = utcnow()
            item = mail_items(uow.session, [mail])[0]
            self.index.upsert([item])
            mail.indexed_at = started
            uow.commit()

    def index_document(self, document_id: int) -> None:
        with self._writer() as uow:
            document = uow.session.get(Document, document_id)
            in_mail = uow.session.execute(
                select(MailDocument.mail_id).where(MailDocument.document_id == document_id)
            ).scalar_one_or_none()
            if in_mail is not None:
                # A mail's files are found through their mail, not as library documents.
                uow.session.rollback()
                self.index_mail(in_mail)
                return
            if document is None or document.deleted_at is not None:
                self.index.delete([f"document:{document_id}"])
                if document is not None:
                    document.indexed_at = utcnow()
                    uow.commit()
                return
            started = utcnow()
            self.index.upsert(document_items(uow.session, [document]))
            document.indexed_at = started
            uow.commit()

    def stale(self, limit: int = 1000) -> tuple[list[int], list[int]]:
        """Mail and documents changed since they were last indexed (lost or pending jobs)."""
        with self._reader() as uow:
            mails = list(
                uow.session.execute(
                    select(Mail.id)
                    .where(or_(Mail.indexed_at.is_(None), Mail.indexed_at < Mail.updated_at))
                    .limit(limit)
                ).scalars()
            )
            documents = list(
                uow.session.execute(
                    select(Document.id)
                    .where(
                        or_(
                            Document.indexed_at.is_(None),
                            Document.indexed_at < Document.updated_at,
                        ),
                        ~Document.id.in_(select(MailDocument.document_id)),
                    )
                    .limit(limit)
                ).scalars()
            )
        return mails, documents

    def reindex(
        self, progress: Callable[[int], None] | None = None, index: SearchIndex | None = None
    ) -> int:
        """Rebuild the whole index from the database (lost, locked or corrupt index).

        ``index``: build another engine's index instead (``ged reindex --backend``), so an
        installation can switch engines with a complete index; the running one is untouched.
        """
        started = utcnow()
        target = self.index if index is None else index
        target.recreate()
        with self._reader() as uow:

            def items() -> Iterator[IndexedItem]:
                for batch in _batches(uow.session):
                    yield from batch
                    if progress:
                        progress(len(batch))

            # One writer and one commit for the whole rebuild: a commit costs a dozen fsyncs
            # (tantivy) or a segment (Whoosh); a commit per batch made the rebuild 2-5x slower.
            done = target.upsert(items())
        if target is not self.index:
            # indexed_at tells what the running engine holds: leave it. Rows edited while the
            # rebuild ran are read again, so the other index is as fresh as the command's end.
            self._catch_up(target, started)
            return done
        with self._writer() as uow:
            # Rows changed while the rebuild ran keep an older indexed_at: the sweep sees them.
            uow.session.execute(update(Mail).values(indexed_at=started))
            uow.session.execute(update(Document).values(indexed_at=started))
            uow.commit()
        return done

    def rebuild_if_empty(self) -> int | None:
        """Rebuild the index from the database when it holds nothing but items were indexed.

        An engine switched without ``ged reindex``, or an index folder lost, would otherwise
        answer every search with nothing. Items never indexed yet (their jobs pending) are left
        to their jobs. Run by the worker as it starts and by the index sweep; None when there
        was nothing to do (or another thread is already at it).
        """
        if not self._rebuilding.acquire(blocking=False):
            return None
        try:
            if self.index.count() > 0:
                return None
            indexed = self._ever_indexed()
            if indexed == 0:
                return None
            logger.warning(
                "search index empty while the database holds %s indexed items: rebuilding it",
                indexed,
            )
            started = time.monotonic()
            done = self.reindex()
            logger.warning(
                "search index rebuilt: %s items in %.1f s", done, time.monotonic() - started
            )
            return done
        finally:
            self._rebuilding.release()

    def _ever_indexed(self) -> int:
        """Mail and live library documents that an index (this engine's or another) has held."""
        with self._reader() as uow:
            mails = uow.session.execute(
                select(func.count()).select_from(Mail).where(Mail.indexed_at.is_not(None))
            ).scalar_one()
            documents = uow.session.execute(
                select(func.count())
                .select_from(Document)
                .where(
                    Document.indexed_at.is_not(None),
                    Document.deleted_at.is_(None),
                    ~Document.id.in_(select(MailDocument.document_id)),
                )
            ).scalar_one()
        return int(mails) + int(documents)

    def _catch_up(self, target: SearchIndex, since: dt.datetime) -> None:
        with self._reader() as uow:
            session = uow.session
            mails = session.execute(select(Mail).where(Mail.updated_at >= since)).scalars().all()
            if mails:
                target.upsert(mail_items(session, mails))
            documents = (
                session.execute(
                    select(Document).where(
                        Document.updated_at >= since,
                        ~Document.id.in_(select(MailDocument.document_id)),
                    )
                )
                .scalars()
                .all()
            )
            live = [d for d in documents if d.deleted_at is None]
            if live:
                target.upsert(document_items(session, live))
            gone = [f"document:{d.id}" for d in documents if d.deleted_at is not None]
            if gone:
                target.delete(gone)

    def total_to_index(self) -> int:
        with self._reader() as uow:
            mails = uow.session.execute(select(func.count()).select_from(Mail)).scalar_one()
            documents = uow.session.execute(
                select(func.count())
                .select_from(Document)
                .where(
                    Document.deleted_at.is_(None),
                    ~Document.id.in_(select(MailDocument.document_id)),
                )
            ).scalar_one()
        return int(mails) + int(documents)


def _batches(session: Session) -> Iterator[list[IndexedItem]]:
    last = 0
    while True:
        mails = (
            session.execute(select(Mail).where(Mail.id > last).order_by(Mail.id).limit(BATCH))
            .scalars()
            .all()
        )
        if not mails:
            break
        last = mails[-1].id
        yield mail_items(session, mails)
    last = 0
    while True:
        documents = (
            session.execute(
                select(Document)
                .where(
                    Document.id > last,
                    Document.deleted_at.is_(None),
                    ~Document.id.in_(select(MailDocument.document_id)),
                )
                .order_by(Document.id)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not documents:
            break
        last = documents[-1].id
        yield document_items(session, documents)


def _texts(session: Session, document_ids: Sequence[int]) -> dict[int, str]:
    """The extracted text of each document's latest version, pages in order."""
    if not document_ids:
        return {}
    out: dict[int, list[str]] = {}
    rows = session.execute(
        select(Version.document_id, Version.number, PageText.text)
        .join(PageText, PageText.version_id == Version.id)
        .where(Version.document_id.in_(document_ids))
        .order_by(Version.document_id, Version.number.desc(), PageText.page)
    )
    latest: dict[int, int] = {}
    for document_id, number, text in rows:
        if latest.setdefault(document_id, number) == number:
            out.setdefault(document_id, []).append(text)
    return {k: "\n".join(v) for k, v in out.items()}


@dataclass
class _Holders:
    """Who holds or held a task on one item, as ``permissions.task_holders`` reads them."""

    assignees: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)  # named candidates, people who completed one
    units: set[int] = field(default_factory=set)  # unit pools


def _holders(session: Session, column: Any, ids: Sequence[int]) -> dict[int, _Holders]:
    """``column``: ``Task.mail_id`` or ``Task.document_id``."""
    out: dict[int, _Holders] = {}
    rows = session.execute(
        select(
            column,
            Task.assignee_id,
            Task.candidate_user_id,
            Task.completed_by_id,
            Task.candidate_unit_id,
        ).where(column.in_(ids))
    )
    for item_id, assignee, candidate, completer, unit in rows:
        held = out.setdefault(item_id, _Holders())
        if assignee is not None:
            held.assignees.add(assignee)
        held.users.update(u for u in (candidate, completer) if u is not None)
        if unit is not None:
            held.units.add(unit)
    return out


def mail_items(session: Session, mails: Sequence[Mail]) -> list[IndexedItem]:
    ids = [m.id for m in mails]
    units: dict[int, list[int]] = {}
    for mail_id, unit_id in session.execute(
        select(MailUnit.mail_id, MailUnit.unit_id).where(MailUnit.mail_id.in_(ids))
    ):
        units.setdefault(mail_id, []).append(unit_id)
    people: dict[int, list[int]] = {}
    for mail_id, user_id in session.execute(
        select(MailPerson.mail_id, MailPerson.user_id).where(MailPerson.mail_id.in_(ids))
    ):
        people.setdefault(mail_id, []).append(user_id)
    documents: dict[int, list[int]] = {}
    for mail_id, document_id in session.execute(
        select(MailDocument.mail_id, MailDocument.document_id)
        .join(Document, Document.id == MailDocument.document_id)
        .where(MailDocument.mail_id.in_(ids), Document.deleted_at.is_(None))
        .order_by(MailDocument.mail_id, MailDocument.position)
    ):
        documents.setdefault(mail_id, []).append(document_id)
    texts = _texts(session, [d for ds in documents.values() for d in ds])
    holders = _holders(session, Task.mail_id, ids)
    items = []
    for mail in mails:
        named = set(people.get(mail.id, []))
        held = holders.get(mail.id, _Holders())
        if mail.registered_by_id is not None:
            named.add(mail.registered_by_id)
        items.append(
            IndexedItem(
                key=f"mail:{mail.id}",
                kind="mail",
                object_id=mail.id,
                title=mail.subject,
                date=mail.mail_date,
                chrono=mail.chrono,
                correspondent=mail.correspondent.name if mail.correspondent else "",
                body="\n".join(texts.get(d, "") for d in documents.get(mail.id, [])),
                mail_type=mail.mail_type.code if mail.mail_type else "",
                direction=mail.direction,
                status=mail.status,
                units=tuple(sorted(units.get(mail.id, []))),
                people=tuple(sorted(named)),
                confidential=mail.confidential,
                task_assignees=tuple(sorted(held.assignees)),
                task_users=tuple(sorted(held.users)),
                task_units=tuple(sorted(held.units)),
            )
        )
    return items


def document_items(session: Session, documents: Sequence[Document]) -> list[IndexedItem]:
    ids = [d.id for d in documents]
    tags: dict[int, list[str]] = {}
    for document_id, tag in session.execute(
        select(DocumentTag.document_id, DocumentTag.tag).where(DocumentTag.document_id.in_(ids))
    ):
        tags.setdefault(document_id, []).append(tag)
    texts = _texts(session, ids)
    holders = _holders(session, Task.document_id, ids)
    none = _Holders()
    return [
        IndexedItem(
            key=f"document:{d.id}",
            kind="document",
            object_id=d.id,
            title=d.title,
            date=d.created_at.date(),
            body="\n".join(filter(None, (d.description, texts.get(d.id, "")))),
            tags=tuple(sorted(tags.get(d.id, []))),
            units=(d.unit_id,) if d.unit_id is not None else (),
            people=(d.created_by_id,) if d.created_by_id is not None else (),
            confidential=d.confidential,
            task_assignees=tuple(sorted(holders.get(d.id, none).assignees)),
            task_users=tuple(sorted(holders.get(d.id, none).users)),
            task_units=tuple(sorted(holders.get(d.id, none).units)),
        )
        for d in documents
    ]
