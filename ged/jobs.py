"""The background jobs: their names, what they run, and the periodic sweeps that re-find lost work.

Every job takes ids, reloads what it needs and is idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ged.bootstrap import Container

INDEX_MAIL = "index_mail"
INDEX_DOCUMENT = "index_document"
SEND_OUTBOX = "send_outbox"
EXTRACT_TEXT = "extract_text"
SEND_DIGESTS = "send_digests"


def register_jobs(ged: Container) -> None:
    jobs = ged.jobs
    jobs.define(INDEX_MAIL, ged.search.index_mail)
    jobs.define(INDEX_DOCUMENT, ged.search.index_document)

    def sweep_index() -> int:
        """Re-enqueue what changed since it was indexed: jobs lost between commit and enqueue."""
        if ged.search.rebuild_if_empty():  # a lost index folder is rebuilt whole
            return 0
        mails, documents = ged.search.stale()
        for mail_id in mails:
            jobs.enqueue(INDEX_MAIL, mail_id)
        for document_id in documents:
            jobs.enqueue(INDEX_DOCUMENT, document_id)
        return len(mails) + len(documents)

    jobs.every("sweep_index", 5, sweep_index)
    # An empty index (engine switched, folder lost) is rebuilt from the database as the worker
    # starts, in a worker thread: the web keeps answering, the other thread keeps working.
    ged.huey.on_startup("rebuild_empty_index")(ged.search.rebuild_if_empty)
    jobs.every("sweep_sessions", 15, ged.accounts.end_stale_sessions)
    # E-mails go out right after the commit that wrote them; the circuit sweep also sends what
    # a lost job left behind, after waking due timers, escalating and reminding.
    jobs.define(SEND_OUTBOX, ged.outbox.send_pending)
    jobs.every("sweep_circuits", ged.settings.circuits.sweep_minutes, ged.tasks.sweep)
    # OCR: one document per job (its pages in parallel child processes); a bad file fails for
    # good (no retry), anything else is retried with back-off, and the sweep finds lost work.
    jobs.define(EXTRACT_TEXT, ged.capture.extract, retries=3, retry_delay=30)

    def sweep_capture() -> int:
        versions = ged.capture.requeue_lost()
        for version_id in versions:
            jobs.enqueue(EXTRACT_TEXT, version_id)
        return len(versions)

    jobs.every("sweep_capture", ged.settings.capture.sweep_minutes, sweep_capture)
    # The daily digest runs every few minutes and acts once per person and agency day, from the
    # configured hour on: a worker that was down at that hour still sends the day's digests.
    jobs.every(
        SEND_DIGESTS, ged.settings.notifications.sweep_minutes, ged.notifications.send_digests
    )
