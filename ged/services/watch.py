"""The scanner folder: files dropped by a scanner are taken once stable, exactly once.

A file is taken when its size and modification time have not changed for ``stable_seconds``
(a scanner writing a long batch over the network is left alone until it is done). Taking it is
an atomic rename into ``processing/`` under a unique name: of two watchers on one folder (two
``ged serve`` on a shared disk), one rename succeeds and the other finds the file gone. The file
is then handed over and moved to ``done/`` or ``failed/``, beside a ``<name>.reason.txt`` saying
what became of it. Polling (not inotify) works the same on network shares and every system.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ged.domain.errors import GedError
from ocr.errors import OcrError

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"
REASON_SUFFIX = ".reason.txt"
# A claimed file is renamed "<token>--<name>"; the token keeps two claims from colliding.
_SEPARATOR = "--"
# Scanners and copy tools write under temporary names first; such files are never taken.
_TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", REASON_SUFFIX)

Handler = Callable[[Path, str], str]


@dataclass(frozen=True)
class Taken:
    name: str
    ok: bool
    reason: str
    path: Path  # where the file ended up (done/ or failed/)


class FolderWatcher:
    """Watches one folder; ``handle(path, name)`` returns what happened or raises why not."""

    def __init__(
        self,
        folder: Path,
        handle: Handler,
        stable_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self._handle = handle
        self._stable = stable_seconds
        self._clock = clock
        # name -> (size, mtime_ns, since when unchanged)
        self._seen: dict[str, tuple[int, int, float]] = {}

    def ensure(self) -> None:
        for sub in (PROCESSING, DONE, FAILED):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    def poll(self) -> list[Taken]:
        """Look once; take every file that has been stable long enough. Never blocks on a file."""
        self.ensure()
        now = self._clock()
        present: set[str] = set()
        ready: list[str] = []
        for entry in os.scandir(self.folder):
            name = entry.name
            if name.startswith((".", "~")) or name.lower().endswith(_TEMPORARY_SUFFIXES):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # taken by another watcher meanwhile
                continue
            present.add(name)
            seen = self._seen.get(name)
            if seen is None or seen[:2] != (stat.st_size, stat.st_mtime_ns):
                self._seen[name] = (stat.st_size, stat.st_mtime_ns, now)
                if self._stable > 0:
                    continue
                seen = self._seen[name]
            if now - seen[2] >= self._stable:
                ready.append(name)
        for name in list(self._seen):
            if name not in present:
                del self._seen[name]
        taken = []
        for name in sorted(ready):
            self._seen.pop(name, None)
            claimed = self._claim(name)
            if claimed is not None:
                taken.append(self._process(claimed, name))
        return taken

    def _claim(self, name: str) -> Path | None:
        target = self.folder / PROCESSING / f"{secrets.token_hex(6)}{_SEPARATOR}{name}"
        try:
            os.rename(self.folder / name, target)
        except FileNotFoundError:
            return None  # another watcher took it first
        # The claim time, for ``recover``: the file's own mtime is the scanner's.
        os.utime(target)
        return target

    def _process(self, path: Path, name: str) -> Taken:
        try:
            reason = self._handle(path, name)
            ok = True
        except OcrError as exc:
            reason, ok = exc.reason, False
        except GedError as exc:
            reason, ok = exc.message, False
        except Exception as exc:
            logger.exception("scanner folder: %s could not be taken", name)
            reason = f"Erreur interne ({type(exc).__name__}) : prévenez l'administrateur."
            ok = False
        destination = _free_name(self.folder / (DONE if ok else FAILED), name)
        os.replace(path, destination)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        status = "Traité" if ok else "Refusé"
        destination.with_name(destination.name + REASON_SUFFIX).write_text(
            f"{status} le {stamp}\n{reason}\n", encoding="utf-8"
        )
        logger.info("scanner folder: %s %s: %s", name, "done" if ok else "failed", reason)
        return Taken(name, ok, reason, destination)

    def recover(self, older_than_seconds: float) -> list[str]:
        """Put back files a killed watcher left in ``processing/`` (claimed long ago)."""
        self.ensure()
        back = []
        limit = time.time() - older_than_seconds
        for entry in os.scandir(self.folder / PROCESSING):
            _token, sep, name = entry.name.partition(_SEPARATOR)
            if not sep or not name or not entry.is_file() or entry.stat().st_mtime > limit:
                continue
            try:
                os.rename(entry.path, _free_name(self.folder, name))
            except FileNotFoundError:
                continue
            back.append(name)
        return back

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Poll until ``stop`` is set; a failing poll is logged and retried at the next one."""
        while not stop.is_set():
            try:
                self.poll()
            except OSError:
                logger.exception("scanner folder %s cannot be read", self.folder)
            stop.wait(poll_seconds)


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or a dated variant when a file of that name is already there."""
    candidate = folder / name
    if not candidate.exists():
        return candidate
    stem, suffix = os.path.splitext(name)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return folder / f"{stem}-{stamp}-{secrets.token_hex(3)}{suffix}"
