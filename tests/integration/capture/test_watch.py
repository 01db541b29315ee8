"""The scanner folder: stable files only, each taken exactly once, done/ or failed/ with a reason."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from ged.adapters.orm import CaptureDraft
from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.services.audit import Actor
from ged.services.watch import FolderWatcher
from tests.integration.capture import scans
from tests.integration.conftest import GedCommand

SCANNER = Actor.system("scanner")
PDF = b"%PDF-1.4\n%fake but enough for the handler\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reason_of(path: Path) -> str:
    return path.with_name(path.name + ".reason.txt").read_text(encoding="utf-8")


def test_a_file_is_taken_only_after_it_stayed_unchanged(tmp_path: Path) -> None:
    clock = Clock()
    handled: list[bytes] = []

    def handle(path: Path, name: str) -> str:
        handled.append(path.read_bytes())
        return f"pris : {name}"

    watcher = FolderWatcher(tmp_path, handle, stable_seconds=10, clock=clock)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    assert watcher.poll() == []  # first seen
    clock.now += 9
    assert watcher.poll() == []  # not yet stable
    with scan.open("ab") as fh:  # the scanner is still writing
        fh.write(b"more pages")
    clock.now += 5
    assert watcher.poll() == []  # changed: the delay starts again
    clock.now += 9
    assert watcher.poll() == []
    clock.now += 1

    [taken] = watcher.poll()

    assert taken.ok
    assert handled == [PDF + b"more pages"]
    assert taken.path == tmp_path / "done" / "scan.pdf"
    assert "pris : scan.pdf" in reason_of(taken.path)
    assert not scan.exists()
    assert list((tmp_path / "processing").iterdir()) == []
    assert watcher.poll() == []


def test_temporary_names_and_folders_are_left_alone(tmp_path: Path) -> None:
    watcher = FolderWatcher(tmp_path, lambda p, n: n, stable_seconds=0)
    for name in ("scan.pdf.part", ".hidden.pdf", "~lock.pdf", "x.tmp"):
        (tmp_path / name).write_bytes(PDF)
    (tmp_path / "sub").mkdir()
    assert watcher.poll() == []
    assert (tmp_path / "scan.pdf.part").exists()


def test_two_watchers_racing_take_each_file_exactly_once(tmp_path: Path) -> None:
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def handle(path: Path, name: str) -> str:
        with lock:
            calls[name] += 1
        time.sleep(0.002)  # widen the window in which the other watcher could step in
        return "ok"

    names = [f"scan-{i:03d}.pdf" for i in range(60)]
    for name in names:
        (tmp_path / name).write_bytes(PDF + name.encode())
    watchers = [FolderWatcher(tmp_path, handle, stable_seconds=0) for _ in range(2)]
    for watcher in watchers:
        watcher.ensure()
    start = threading.Barrier(2)
    results: list[list[str]] = [[], []]

    def run(index: int) -> None:
        start.wait()
        for _ in range(3):
            results[index].extend(t.name for t in watchers[index].poll())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results[0] + results[1]) == names
    assert set(calls.values()) == {1}
    assert sorted(calls) == names
    assert sorted(p.name for p in (tmp_path / "done").glob("*.pdf")) == names
    assert list((tmp_path / "processing").iterdir()) == []


def test_a_refused_file_goes_to_failed_with_its_reason(tmp_path: Path) -> None:
    def handle(path: Path, name: str) -> str:
        raise ValidationError("La feuille de couverture désigne un courrier introuvable.")

    def crash(path: Path, name: str) -> str:
        raise RuntimeError("disk on fire")

    (tmp_path / "a.pdf").write_bytes(PDF)
    [taken] = FolderWatcher(tmp_path, handle, stable_seconds=0).poll()
    assert not taken.ok
    assert taken.path == tmp_path / "failed" / "a.pdf"
    assert "courrier introuvable" in reason_of(taken.path)
    # A second file of the same name does not overwrite the first.
    (tmp_path / "a.pdf").write_bytes(PDF)
    [again] = FolderWatcher(tmp_path, crash, stable_seconds=0).poll()
    assert again.path != taken.path
    assert again.path.parent == tmp_path / "failed"
    assert "Erreur interne (RuntimeError)" in reason_of(again.path)
    assert taken.path.exists()


def test_a_file_left_in_processing_by_a_killed_watcher_comes_back(tmp_path: Path) -> None:
    watcher = FolderWatcher(tmp_path, lambda p, n: n, stable_seconds=0)
    watcher.ensure()
    stuck = tmp_path / "processing" / "0123456789ab--lettre.pdf"
    stuck.write_bytes(PDF)
    fresh = tmp_path / "processing" / "ba9876543210--encours.pdf"
    fresh.write_bytes(PDF)
    old = time.time() - 7200
    os.utime(stuck, (old, old))
    assert watcher.recover(older_than_seconds=3600) == ["lettre.pdf"]
    assert (tmp_path / "lettre.pdf").exists()
    assert fresh.exists()


# --- with the real intake -----------------------------------------------------------------------


def _take_with(container: Container, folder: Path) -> FolderWatcher:
    def take(path: Path, name: str) -> str:
        return "\n".join(o.describe() for o in container.basket.ingest(SCANNER, path, name))

    return FolderWatcher(folder, take, stable_seconds=0)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("lettre.pdf", b"<html><script>alert(1)</script></html>", "une page HTML"),
        ("image.png", b"GIF89a\x01\x00\x01\x00", "une image GIF"),
        ("vide.pdf", b"", "fichier de type inconnu"),
        ("casse.pdf", b"%PDF-1.7\nnot really a pdf", "illisible"),
        ("tronquee.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "illisible"),
    ],
)
def test_files_that_are_not_scans_are_refused_by_their_bytes(
    queued: Container, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    folder = tmp_path / "scanner"
    folder.mkdir()
    (folder / name).write_bytes(content)
    [taken] = _take_with(queued, folder).poll()
    assert not taken.ok
    assert expected in reason_of(taken.path)
    assert taken.path.read_bytes() == content  # kept as it came, for a person to look at
    with queued.reader() as uow:
        assert uow.session.query(CaptureDraft).count() == 0


def test_scans_dropped_in_the_folder_land_in_the_basket(queued: Container, tmp_path: Path) -> None:
    folder = tmp_path / "scanner"
    folder.mkdir()
    scans.scan_pdf(folder / "lettre.pdf", scans.letter_pages("Lettre", 1))
    letter = scans.letter_pages("Image", 1)[0]
    letter.save(folder / "photo.jpg", "JPEG", quality=80)
    letter.save(folder / "page.tif", "TIFF", compression="tiff_lzw")

    taken = _take_with(queued, folder).poll()

    assert sorted((t.name, t.ok) for t in taken) == [
        ("lettre.pdf", True),
        ("page.tif", True),
        ("photo.jpg", True),
    ]
    assert all("brouillon à qualifier" in reason_of(t.path) for t in taken)
    drafts = queued.basket.drafts(SCANNER)
    assert sorted(d.source_name for d in drafts) == ["lettre.pdf", "page.tif", "photo.jpg"]


def test_the_watch_command_takes_the_folder_once(ged: GedCommand, tmp_path: Path) -> None:
    ged.ok("init")
    folder = tmp_path / "scanner"
    folder.mkdir()
    scans.scan_pdf(folder / "lettre.pdf", scans.letter_pages("Lettre", 1))
    (folder / "note.txt").write_bytes(b"pas un scan")

    result = ged("watch", str(folder), "--once", env={"GED_CAPTURE_STABLE_SECONDS": "0"})

    assert result.exit_code == 0, (result.output, result.exception)
    assert "done: lettre.pdf" in result.output
    assert "failed: note.txt" in result.output
    assert (folder / "done" / "lettre.pdf").exists()
    assert "du texte brut" in reason_of(folder / "failed" / "note.txt")
    container = ged.container()
    ged.containers.append(container)
    assert len(container.basket.drafts(SCANNER)) == 1


def test_two_watchers_racing_on_real_scans_make_one_draft_each(
    queued: Container, tmp_path: Path
) -> None:
    folder = tmp_path / "scanner"
    folder.mkdir()
    names = [f"lettre-{i}.pdf" for i in range(4)]
    for i, name in enumerate(names):
        scans.scan_pdf(folder / name, scans.letter_pages(name, 1, seed=i))
    watchers = [_take_with(queued, folder) for _ in range(2)]
    for watcher in watchers:
        watcher.ensure()
    start = threading.Barrier(2)
    taken: list[str] = []

    def run(watcher: FolderWatcher) -> None:
        start.wait()
        taken.extend(t.name for t in watcher.poll() if t.ok)

    threads = [threading.Thread(target=run, args=(w,)) for w in watchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == names
    drafts = queued.basket.drafts(SCANNER)
    assert sorted(d.source_name for d in drafts) == names
    assert sorted(p.name for p in (folder / "done").glob("*.pdf")) == names


def test_serve_watches_the_configured_folder_in_the_background(
    queued: Container, tmp_path: Path
) -> None:
    from web.cli import _start_watcher

    folder = tmp_path / "scanner"
    settings = replace(
        queued.settings,
        capture=replace(queued.settings.capture, stable_seconds=0, poll_seconds=1),
    )
    ged = replace(queued, settings=settings)
    stop = _start_watcher(ged, folder)
    try:
        scans.scan_pdf(folder / "lettre.pdf.part", scans.letter_pages("Lettre", 1))
        (folder / "lettre.pdf.part").rename(folder / "lettre.pdf")
        deadline = time.monotonic() + 30
        while not (folder / "done" / "lettre.pdf").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
    assert (folder / "done" / "lettre.pdf").exists()
    assert [d.source_name for d in queued.basket.drafts(SCANNER)] == ["lettre.pdf"]


class Killed(BaseException):
    """A watcher killed mid-way: not an error it handles, nothing after it runs."""


def test_a_file_taken_again_after_a_crash_past_the_commit_gives_nothing_new(
    queued: Container, tmp_path: Path
) -> None:
    folder = tmp_path / "scanner"
    folder.mkdir()
    scans.scan_pdf(folder / "lettre.pdf", scans.letter_pages("Lettre", 1))

    def commit_then_die(path: Path, name: str) -> str:
        queued.basket.ingest(SCANNER, path, name)
        raise Killed  # after the commit, before the move to done/

    with pytest.raises(Killed):
        FolderWatcher(folder, commit_then_die, stable_seconds=0).poll()
    assert [p.name for p in (folder / "processing").iterdir()] != []
    [first] = queued.basket.drafts(SCANNER)

    # The next start puts the file back; it is taken again, and creates nothing.
    watcher = _take_with(queued, folder)
    assert watcher.recover(older_than_seconds=0) == ["lettre.pdf"]
    [taken] = watcher.poll()

    assert taken.ok
    assert taken.path == folder / "done" / "lettre.pdf"
    assert "déjà pris en compte" in reason_of(taken.path)
    assert f"brouillon à qualifier n° {first.id}" in reason_of(taken.path)
    assert [d.id for d in queued.basket.drafts(SCANNER)] == [first.id]
    with queued.reader() as uow:
        assert uow.session.query(CaptureDraft).count() == 1


def test_the_same_bytes_under_another_name_are_a_new_scan(
    queued: Container, tmp_path: Path
) -> None:
    # Two letters can scan alike (a form, a blank page): only the same file is skipped.
    folder = tmp_path / "scanner"
    folder.mkdir()
    scans.scan_pdf(folder / "a.pdf", scans.letter_pages("Formulaire", 1))
    (folder / "b.pdf").write_bytes((folder / "a.pdf").read_bytes())

    taken = _take_with(queued, folder).poll()

    assert [(t.name, t.ok) for t in taken] == [("a.pdf", True), ("b.pdf", True)]
    assert not any("déjà" in reason_of(t.path) for t in taken)
    assert len(queued.basket.drafts(SCANNER)) == 2
