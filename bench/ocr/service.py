"""OCR through the real service path: upload to searchable, and a worker draining many scans.

Both measures run a throwaway instance (SQLite database, SQLite job queue, Whoosh index, as a
default installation) and a real worker: `ged worker` in its own process, a Huey consumer with two
threads, its OCR children forked from its own forkserver.

- upload to searchable: a one-page scanned letter is uploaded through the documents service; the
  clock runs from that call until the search service first returns the new document for a word of
  the letter (OCR job, then the index job it enqueues, then a search). The worker is idle and warm
  (one upload is read before the measured ones); the median of the runs is kept, with the CPU
  seconds of the upload and of the whole worker tree, and where the time went (upload, wait in
  the queue, OCR job, indexing and search; from the version's state, polled).
- draining: `--scans` small one-page scans (a few lines, each numbered, so every file differs) are
  queued first, then the worker is started and drains them. The resident memory of the worker and
  of every process under it (forkserver, page children, Tesseract) is sampled from /proc, with the
  count of scans done; the peak and the slope (growth per 100 scans, least squares once the first
  tenth is done) say whether memory stays flat.

    .venv/bin/python bench/ocr/service.py [--runs 7] [--scans 500]

Run alone, it updates its two keys in bench/results/ocr.json; `run.py` calls it too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.ocr import letters  # noqa: E402
from ged import bootstrap, migrations  # noqa: E402
from ged.adapters.db import make_engine  # noqa: E402
from ged.adapters.orm import Version, VersionText  # noqa: E402
from ged.bootstrap import Container  # noqa: E402
from ged.config import Settings, load_settings  # noqa: E402
from ged.domain.search import SearchQuery  # noqa: E402
from ged.services.audit import Actor  # noqa: E402
from ged.services.documents import DocumentData, IncomingFile  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "ocr.json"
SYSTEM = Actor.system("bench")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The word searched for: in the first French letter, in no other document of the instance.
WORD = "diligence"
SAMPLE_EVERY_S = 0.5


# --- the instance and its worker ------------------------------------------------------------


@contextmanager
def instance(folder: Path) -> Iterator[tuple[Container, dict[str, str]]]:
    """A fresh instance and the environment that points `ged worker` at it."""
    secret = secrets.token_urlsafe(48)  # throwaway instance
    values = {"instance": str(folder), "secret_key": secret, "redis_url": "", "database_url": ""}
    settings: Settings = load_settings(values, environ={})
    settings.instance.mkdir(parents=True)
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    ged = bootstrap.build(settings, engine=engine)
    ged.store.ensure()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GED_")},
        "GED_INSTANCE": str(folder),
        "GED_SECRET_KEY": secret,
        "PYTHONPATH": str(ROOT),
    }
    try:
        yield ged, env
    finally:
        ged.dispose()


# `ged worker`, started with `python -c` (`--command`: the installed `ged` console script).
WORKER = "from web.cli import main; main()"
# The same consumer, polling an idle queue at least every `max_delay` seconds instead of
# `ged worker`'s IDLE_POLL_SECONDS (Huey's delay grows by 1.15× per empty poll from 0.1 s).
TUNED_WORKER = """
from web.cli import _create_app
from web.extensions import container
ged = container(_create_app())
consumer = ged.huey.create_consumer(
    workers=2, worker_type="thread", periodic=True, max_delay={max_delay}
)
consumer.run()
"""


# The `ged` command installed beside this Python (a console script: its children import it).
GED_COMMAND = Path(sys.executable).parent / "ged"


def start_worker(
    env: dict[str, str], log: Path, max_delay: float | None = None, command: bool = False
) -> subprocess.Popen[bytes]:
    code = WORKER if max_delay is None else TUNED_WORKER.format(max_delay=max_delay)
    arguments = ["worker", "--workers", "2"] if max_delay is None else []
    program = [str(GED_COMMAND)] if command else ["-c", code]
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *program, *arguments],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    # SIGINT: Huey's graceful stop (running jobs finish; the forkserver goes with the consumer).
    worker.send_signal(signal.SIGINT)
    try:
        worker.wait(60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def upload(ged: Container, name: str, data: bytes, media_type: str) -> int:
    return ged.documents.create(
        SYSTEM, DocumentData(title=name), IncomingFile(io.BytesIO(data), name, media_type)
    )


def found(ged: Container, document_id: int, word: str) -> bool:
    hits = ged.search.search(SYSTEM, SearchQuery(text=word, per_page=100)).hits
    return any(hit.kind == "document" and hit.object_id == document_id for hit in hits)


# --- 1. upload to searchable ----------------------------------------------------------------


def tesseract_alone(image: Path, languages: str) -> tuple[float, float]:
    """Wall and CPU seconds of one bare Tesseract run on the page image."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(
        ["tesseract", str(image), "-", "-l", languages, "--dpi", "300", "txt"],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start, children_cpu() - cpu


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and everything under it, ended children included.

    A process's own time plus the time of its children it has reaped (`cutime`, `cstime`): a
    page child's Tesseract counts in it once ended, the forkserver's page children in the
    forkserver, the forkserver in the worker. Nothing is counted twice at one instant.
    """
    total = 0
    for pid in descendants(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def text_state(ged: Container, document_id: int) -> str:
    with ged.reader() as uow:
        state = uow.session.execute(
            select(VersionText.state)
            .join(Version, Version.id == VersionText.version_id)
            .where(Version.document_id == document_id)
        ).scalar_one_or_none()
    return state or "pending"


def upload_to_searchable(
    runs: int, max_delay: float | None = None, command: bool = False, timeout_s: float = 300.0
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ocr-service-") as folder:
        work = Path(folder)
        letter = letters.letters(1)[0]
        assert WORD in letter.text
        pdf = letters.save_pdf([letter.image], work / "lettre.pdf")
        data = pdf.read_bytes()
        subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(work / "page")], check=True)
        image = next(work.glob("page-*.pgm"))
        with instance(work / "instance") as (ged, env):
            worker = start_worker(env, work / "worker.log", max_delay, command)
            try:
                seconds: list[float] = []
                cpu: list[float] = []
                phases: list[dict[str, float]] = []
                bare: list[tuple[float, float]] = []
                for attempt in range(runs + 1):  # the first one warms the worker up
                    worker_cpu = tree_cpu(worker.pid)
                    own_cpu = time.process_time()
                    start = time.perf_counter()
                    document_id = upload(ged, f"lettre-{attempt}.pdf", data, "application/pdf")
                    uploaded = time.perf_counter()
                    upload_cpu = time.process_time() - own_cpu
                    # When the job starts and ends, seen from the database (polled as the
                    # search is: every 20 ms, so each mark is up to 20 ms late).
                    marks: dict[str, float] = {}
                    while not found(ged, document_id, WORD):
                        if time.perf_counter() - start > timeout_s:
                            log = (work / "worker.log").read_text(errors="replace")[-3000:]
                            raise RuntimeError(f"not searchable after {timeout_s:.0f} s\n{log}")
                        if worker.poll() is not None:
                            log = (work / "worker.log").read_text(errors="replace")[-3000:]
                            raise RuntimeError(f"the worker stopped\n{log}")
                        state = text_state(ged, document_id)
                        if state != "pending":
                            marks.setdefault("running", time.perf_counter())
                        if state == "done":
                            marks.setdefault("done", time.perf_counter())
                        time.sleep(0.02)
                    end = time.perf_counter()
                    elapsed = end - start
                    spent = tree_cpu(worker.pid) - worker_cpu + upload_cpu
                    if attempt:
                        seconds.append(elapsed)
                        cpu.append(spent)
                        running = marks.get("running", uploaded)
                        done = marks.get("done", end)
                        phases.append(
                            {
                                "upload": uploaded - start,
                                "queue_wait": running - uploaded,
                                "ocr_job": done - running,
                                "index_and_search": end - done,
                            }
                        )
                        # Tesseract alone on the same page, right after: the same machine load.
                        bare.append(tesseract_alone(image, ged.settings.ocr.languages))
                    print(
                        f"  upload to searchable {attempt}: {elapsed:.2f} s, {spent:.2f} CPU-s"
                        f" (load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
            finally:
                stop_worker(worker)
    median = statistics.median(seconds)
    cpu_median = statistics.median(cpu)
    bare_median = statistics.median(wall for wall, _ in bare)
    bare_cpu_median = statistics.median(spent for _, spent in bare)
    return {
        "page": "letter-fra-0 (scanned PDF, A4, 300 dpi)",
        "languages": ged.settings.ocr.languages,
        "load_average": [round(value, 1) for value in os.getloadavg()],
        "median_seconds": round(median, 2),
        "all_seconds": [round(s, 2) for s in seconds],
        "median_cpu_seconds": round(cpu_median, 2),
        "all_cpu_seconds": [round(c, 2) for c in cpu],
        "median_phases_seconds": {
            key: round(statistics.median(phase[key] for phase in phases), 3)
            for key in ("upload", "queue_wait", "ocr_job", "index_and_search")
        },
        "tesseract_alone_median_seconds": round(bare_median, 2),
        "tesseract_alone_median_cpu_seconds": round(bare_cpu_median, 2),
        "ratio_to_tesseract_alone": round(median / bare_median, 2),
        "cpu_ratio_to_tesseract_alone": round(cpu_median / bare_cpu_median, 2),
        "worker": "ged worker --workers 2 (the console script)"
        if command
        else "ged worker --workers 2 (python -c)"
        if max_delay is None
        else f"the same Huey consumer with max_delay={max_delay}",
        "note": "documents.create to the first search hit; worker idle and warm; "
        "the search is polled every 20 ms; CPU: the upload (this process) and the worker "
        "with every process under it (forkserver, page children, Tesseract), idle polling "
        "included; Tesseract alone reads the page pdftoppm made of the scan (-r 300 -gray)",
    }


# --- 2. draining many scans -----------------------------------------------------------------


def small_scan(number: int, font: ImageFont.FreeTypeFont) -> bytes:
    """A strip of a letter: four lines, numbered, grey paper, as a JPEG."""
    page = Image.new("L", (1400, 420), 236)
    draw = ImageDraw.Draw(page)
    lines = (
        f"Courrier arrivé n° {number:04d}",
        "Objet : demande de renseignements sur les travaux",
        "Nous vous prions de bien vouloir nous communiquer",
        "le calendrier prévisionnel et le coût des travaux.",
    )
    for row, line in enumerate(lines):
        draw.text((80, 50 + row * 80), line, fill=30, font=font)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=85, dpi=(300, 300))
    return out.getvalue()


def descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * PAGE_SIZE / 1048576


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages split between their processes (no double count)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def finished(ged: Container) -> int:
    with ged.reader() as uow:
        count = uow.session.execute(
            select(func.count())
            .select_from(VersionText)
            .where(VersionText.state.in_(("done", "failed")))
        ).scalar_one()
    return int(count)


def slope_per_100(points: list[tuple[int, float]]) -> float:
    """Least-squares growth in MB per 100 scans."""
    if len(points) < 3:
        return 0.0
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return 0.0
    return 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var


def drain(scans: int, timeout_s: float = 3600.0) -> dict[str, Any]:
    font = ImageFont.truetype(str(letters.font_path(arabic=False)), 44)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-drain-") as folder:
        work = Path(folder)
        with instance(work / "instance") as (ged, env):
            start = time.perf_counter()
            for number in range(scans):
                upload(ged, f"scan-{number:04d}.jpg", small_scan(number, font), "image/jpeg")
            queued_s = time.perf_counter() - start
            print(f"  {scans} scans queued in {queued_s:.1f} s", flush=True)
            worker = start_worker(env, work / "worker.log")
            samples: list[dict[str, Any]] = []
            start = time.perf_counter()
            try:
                done = 0
                while done < scans:
                    if time.perf_counter() - start > timeout_s:
                        raise RuntimeError(f"{done}/{scans} scans after {timeout_s:.0f} s")
                    if worker.poll() is not None:
                        log = (work / "worker.log").read_text(errors="replace")[-3000:]
                        raise RuntimeError(f"the worker stopped\n{log}")
                    pids = descendants(worker.pid)
                    done = finished(ged)
                    samples.append(
                        {
                            "t": round(time.perf_counter() - start, 1),
                            "done": done,
                            "worker_rss_mb": round(rss_mb(worker.pid), 1),
                            "tree_rss_mb": round(sum(rss_mb(pid) for pid in pids), 1),
                            "tree_pss_mb": round(sum(pss_mb(pid) for pid in pids), 1),
                            "processes": len(pids),
                        }
                    )
                    if len(samples) % 60 == 0:
                        print(f"  {samples[-1]}", flush=True)
                    time.sleep(SAMPLE_EVERY_S)
                seconds = time.perf_counter() - start
            finally:
                stop_worker(worker)
            with ged.reader() as uow:
                states = dict(
                    uow.session.execute(
                        select(VersionText.state, func.count())
                        .join(Version, Version.id == VersionText.version_id)
                        .group_by(VersionText.state)
                    ).all()
                )
    settled = [s for s in samples if s["done"] >= scans // 10]
    return {
        "scans": scans,
        "scan": "JPEG 1400×420 px, 300 dpi, four French lines",
        "languages": ged.settings.ocr.languages,
        "worker": "ged worker --workers 2 (python -c; Huey consumer, threads; SQLite queue)",
        "queue_seconds": round(queued_s, 1),
        "drain_seconds": round(seconds, 1),
        "scans_per_second": round(scans / seconds, 2),
        "states": states,
        "peak_tree_rss_mb": max(s["tree_rss_mb"] for s in samples),
        "peak_tree_pss_mb": max(s["tree_pss_mb"] for s in samples),
        "peak_worker_rss_mb": max(s["worker_rss_mb"] for s in samples),
        "slope_mb_per_100_scans": {
            "worker_rss": round(
                slope_per_100([(s["done"], s["worker_rss_mb"]) for s in settled]), 2
            ),
            "tree_pss": round(slope_per_100([(s["done"], s["tree_pss_mb"]) for s in settled]), 2),
        },
        "note": "RSS/PSS of `ged worker` and every process under it, sampled every "
        f"{SAMPLE_EVERY_S} s from /proc; slope by least squares over the samples after the "
        "first tenth of the scans",
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured uploads (median kept)")
    parser.add_argument("--scans", type=int, default=500, help="scans drained (0: skip)")
    parser.add_argument(
        "--command",
        action="store_true",
        help="time upload to searchable with the installed `ged` command as the worker instead",
    )
    args = parser.parse_args()
    report = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    print(f"load average {os.getloadavg()}")
    if args.runs:
        variants = [
            ("upload_to_searchable", None, False),
            ("upload_to_searchable_idle_poll_1s", 1.0, False),
        ]
        if args.command and GED_COMMAND.exists():
            variants = [("upload_to_searchable_ged_command", None, True)]
        for key, max_delay, command in variants:
            report[key] = upload_to_searchable(args.runs, max_delay, command)
            shown = {k: v for k, v in report[key].items() if k != "note"}
            print(f"{key}: {shown}")
    if args.scans:
        report["drain"] = drain(args.scans)
        shown = {k: v for k, v in report["drain"].items() if k not in ("samples", "note")}
        print(f"drain: {shown}")
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
