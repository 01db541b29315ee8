"""`ged check`: every version has its file, intact; no orphan file; the audit chain holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ged.adapters.orm import AuditEvent, Version, VersionText
from ged.adapters.storage import FileStore, file_sha256
from ged.adapters.uow import UnitOfWork
from ged.services.audit import verify_chain


@dataclass
class IntegrityReport:
    versions: int = 0
    objects: int = 0
    audit_events: int = 0
    faults: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults and not self.orphans


def check_integrity(
    reader: Callable[[], UnitOfWork],
    store: FileStore,
    progress: Callable[[int], None] | None = None,
) -> IntegrityReport:
    """Read-only: reports problems, never repairs or deletes anything."""
    report = IntegrityReport()
    verified: dict[str, tuple[str, int] | None] = {}
    with reader() as uow:
        rows = uow.session.execute(
            select(Version.id, Version.sha256, Version.size).order_by(Version.id)
        ).yield_per(5000)
        for version_id, sha256, size in rows:
            report.versions += 1
            if sha256 not in verified:
                path = store.path_for(sha256)
                verified[sha256] = file_sha256(path) if path.is_file() else None
            found = verified[sha256]
            if found is None:
                report.faults.append(f"version {version_id}: file {sha256} is missing")
            elif found[0] != sha256:
                report.faults.append(
                    f"version {version_id}: file {sha256} is damaged (its content hashes to "
                    f"{found[0]})"
                )
            elif found[1] != size:
                report.faults.append(
                    f"version {version_id}: file {sha256} has {found[1]} bytes, {size} expected"
                )
            if progress:
                progress(report.versions)
        # The OCR's derived files (searchable PDF, thumbnail) are referenced too: not orphans.
        derived = uow.session.execute(
            select(
                VersionText.version_id,
                VersionText.searchable_sha256,
                VersionText.thumbnail_sha256,
            ).where(
                (VersionText.searchable_sha256.is_not(None))
                | (VersionText.thumbnail_sha256.is_not(None))
            )
        ).yield_per(5000)
        for version_id, *digests in derived:
            for digest in digests:
                if not digest or digest in verified:
                    continue
                path = store.path_for(digest)
                found = verified[digest] = file_sha256(path) if path.is_file() else None
                if found is None or found[0] != digest:
                    report.faults.append(
                        f"version {version_id}: derived file {digest} is missing or damaged"
                    )
        for fault in verify_chain(uow.session):
            report.faults.append(f"audit event {fault.event_id}: {fault.problem}")
        report.audit_events = _count_events(uow)
    for name, path in store.iter_objects():
        report.objects += 1
        if name not in verified:
            report.orphans.append(str(path.relative_to(store.root)))
    report.temp_files = [str(p.relative_to(store.root)) for p in store.iter_temp_files()]
    return report


def _count_events(uow: UnitOfWork) -> int:
    return uow.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
