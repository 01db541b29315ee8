"""OCR benchmark: our pipeline against OCRmyPDF and bare Tesseract on the same pages, same run.

Prints pages per second on this machine, the ratios, the character error rate per language, and
one page's time against Tesseract alone on it, what each kind of Tesseract pass costs, and
through a real worker (`service.py`): the time from upload to searchable and the memory while
draining many scans. Writes bench/results/ocr.json.

The page set is fixed: five pages of the shared OCRmyPDF corpus (linn, its skewed copy, the
French page, an Epson office scan, an old book page) and 24 generated letters (eight French,
sixteen Arabic, four texts each; `letters.py`, seeded), joined into one PDF so that each tool sees
one document. The character error rate is given per language and per page, for every tool on
the same pages: Arabic readings move by several points from one scan to another, and a mean
over two pages said little. OCRmyPDF
(pinned below) is installed into a throwaway virtualenv under bench/.cache on first run; if that
fails, the run says so and goes on without it. OCRmyPDF runs twice: as a user would first call it,
and with `--deskew --rotate-pages`, which is the work our pipeline does on every page.

    .venv/bin/python bench/ocr/run.py [--skip-ocrmypdf] [--workers N] [--repeat N]
        [--service-runs N] [--scans N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pikepdf  # noqa: E402

from bench.ocr import letters  # noqa: E402
from ocr import OcrSettings, character_error_rate, process  # noqa: E402

# shared/ beside the clone, or GED_OCR_CORPUS.
CORPUS = Path(os.environ.get("GED_OCR_CORPUS") or ROOT / ".." / "shared" / "corpus" / "ocrmypdf")
CORPUS_PAGES = ("linn.pdf", "skew.pdf", "francais.pdf", "epson.pdf", "c02-22.pdf")
CACHE = ROOT / "bench" / ".cache" / "ocr"
OCRMYPDF_VENV = ROOT / "bench" / ".cache" / "ocrmypdf-venv"
OCRMYPDF_VERSION = "17.13.0"
RESULTS = ROOT / "bench" / "results" / "ocr.json"
LANGUAGES = "fra+ara"
LETTERS_PER_LANGUAGE = 8
# Arabic readings swing by several points from one letter to the next: twice as many pages.
# Letters 8-15 (seeds 8-15) were added before any of them was read by this benchmark.
ARABIC_LETTERS = 16


def forkserver_cpu() -> float:
    """CPU seconds of the forkserver's ended children (our page processes and their programs).

    They are not this process's children, so `getrusage` does not see them; /proc does. Reads a
    private attribute of multiprocessing: a benchmark may, the pipeline does not.
    """
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cutime, cstime = int(fields[13]), int(fields[14])
    return (cutime + cstime) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + forkserver_cpu()


class Timer:
    """Wall time and CPU time of every child process ended inside the block."""

    def __enter__(self) -> Timer:
        self.wall0, self.cpu0 = time.perf_counter(), children_cpu()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.cpu = children_cpu() - self.cpu0


def build_page_set(folder: Path) -> tuple[Path, list[tuple[str, str | None]]]:
    """One PDF with every page; per page: (label, reference text or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    labels: list[tuple[str, str | None]] = []
    linn_text = (CORPUS / "linn.txt").read_text(encoding="utf-8")
    for name in CORPUS_PAGES:
        parts.append(CORPUS / name)
        labels.append((name, linn_text if name in ("linn.pdf", "skew.pdf") else None))
    for index, letter in enumerate(letters.letters(LETTERS_PER_LANGUAGE, ARABIC_LETTERS)):
        path = letters.save_pdf([letter.image], folder / f"letter-{letter.language}-{index}.pdf")
        parts.append(path)
        labels.append((f"letter-{letter.language}-{index}", letter.text))
    joined = folder / "pages.pdf"
    out = pikepdf.new()
    sources = [pikepdf.open(part) for part in parts]
    for source in sources:
        out.pages.append(source.pages[0])
    out.save(joined)
    for source in sources:
        source.close()
    return joined, labels


def language_of(label: str) -> str:
    if label.startswith("letter-ara"):
        return "ara"
    if label.startswith("letter-fra"):
        return "fra"
    return "eng (linn)"


def page_error_rates(labels: list[tuple[str, str | None]], texts: list[str]) -> dict[str, float]:
    """Character error rate of each page with a known text, by label."""
    return {
        label: round(character_error_rate(reference, text), 4)
        for (label, reference), text in zip(labels, texts, strict=True)
        if reference is not None
    }


def error_rates(pages: dict[str, float]) -> dict[str, float]:
    """Mean character error rate per language."""
    per: dict[str, list[float]] = {}
    for label, rate in pages.items():
        per.setdefault(language_of(label), []).append(rate)
    return {language: round(sum(v) / len(v), 4) for language, v in per.items()}


def readings(labels: list[tuple[str, str | None]], texts: list[str]) -> dict:
    pages = page_error_rates(labels, texts)
    return {"cer": error_rates(pages), "cer_pages": pages}


def compare_pages(report: dict, tool: str) -> dict[str, dict[str, int]]:
    """Per language, on how many pages ours reads better, the same, or worse than `tool`."""
    found: dict[str, dict[str, int]] = {}
    ours, other = report["ours"]["cer_pages"], report[tool]["cer_pages"]
    for label, rate in ours.items():
        count = found.setdefault(language_of(label), {"better": 0, "same": 0, "worse": 0})
        verdict = "better" if rate < other[label] else "worse" if rate > other[label] else "same"
        count[verdict] += 1
    return found


def run_ours(pdf: Path, labels: list, settings: OcrSettings, work: Path) -> dict:
    with Timer() as timer:
        result = process(pdf, settings, work / "ours")
    texts = [page.text for page in result.pages]
    return {
        "seconds": round(timer.wall, 2),
        "cpu_seconds": round(timer.cpu, 2),
        "pages_per_second": round(result.page_count / timer.wall, 3),
        **readings(labels, texts),
        "rotations": [page.rotation for page in result.pages],
        "skews": [page.skew for page in result.pages],
        "confidences": [page.confidence for page in result.pages],
    }


def ocrmypdf_program() -> Path | None:
    program = OCRMYPDF_VENV / "bin" / "ocrmypdf"
    if program.exists():
        return program
    try:
        subprocess.run([sys.executable, "-m", "venv", str(OCRMYPDF_VENV)], check=True)
        subprocess.run(
            [str(OCRMYPDF_VENV / "bin" / "pip"), "install", "-q", f"ocrmypdf=={OCRMYPDF_VERSION}"],
            check=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"ocrmypdf: could not be installed ({exc}); it is left out of this run")
        return None
    return program if program.exists() else None


def run_ocrmypdf(
    program: Path, pdf: Path, labels: list, work: Path, jobs: int, extra: tuple[str, ...] = ()
) -> dict:
    sidecar = work / f"ocrmypdf{len(extra)}.txt"
    command = [str(program), "--jobs", str(jobs), "-l", LANGUAGES, "--output-type", "pdf", *extra]
    command += ["--sidecar", str(sidecar), str(pdf), str(work / f"ocrmypdf{len(extra)}.pdf")]
    with Timer() as timer:
        subprocess.run(command, check=True, capture_output=True)
    texts = sidecar.read_text(encoding="utf-8").split("\f")[: len(labels)]
    return {
        "version": OCRMYPDF_VERSION,
        "command": " ".join(["ocrmypdf", *command[1 : 7 + len(extra)]]),
        "seconds": round(timer.wall, 2),
        "cpu_seconds": round(timer.cpu, 2),
        "pages_per_second": round(len(labels) / timer.wall, 3),
        **readings(labels, texts),
    }


def rasterise(pdf: Path, folder: Path, pages: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(folder / "page")], check=True)
    found = sorted(folder.glob("page-*.pgm"))
    assert len(found) == pages, found
    return found


def tesseract(image: Path, base: Path) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    subprocess.run(
        ["tesseract", str(image), str(base), "-l", LANGUAGES, "--dpi", "300", "txt"],
        check=True,
        capture_output=True,
        env=env,
    )
    return Path(f"{base}.txt").read_text(encoding="utf-8")


def run_bare(images: list[Path], labels: list, work: Path, jobs: int) -> dict:
    """Tesseract alone, one page per process, `jobs` at a time: the floor for any pipeline."""
    with Timer() as timer, ThreadPoolExecutor(jobs) as pool:
        texts = list(
            pool.map(lambda item: tesseract(item[1], work / f"bare-{item[0]}"), enumerate(images))
        )
    return {
        "seconds": round(timer.wall, 2),
        "cpu_seconds": round(timer.cpu, 2),
        "pages_per_second": round(len(images) / timer.wall, 3),
        **readings(labels, texts),
        "note": "pages rasterised beforehand (not timed); text output only",
    }


def run_one_page(work: Path, settings: OcrSettings) -> dict:
    """One French letter page: our whole pipeline against Tesseract alone on its image."""
    work.mkdir(parents=True)
    letter = letters.letters(1)[0]
    pdf = letters.save_pdf([letter.image], work / "one.pdf")
    image = rasterise(pdf, work / "one-raster", 1)[0]
    with Timer() as bare:
        tesseract(image, work / "one-bare")
    with Timer() as ours:
        process(pdf, settings, work / "one-ours")
    return {
        "tesseract_seconds": round(bare.wall, 2),
        "ours_seconds": round(ours.wall, 2),
        "ratio": round(ours.wall / bare.wall, 2),
        "tesseract_cpu_seconds": round(bare.cpu, 2),
        "ours_cpu_seconds": round(ours.cpu, 2),
        "cpu_ratio": round(ours.cpu / bare.cpu, 2),
    }


OURS_OUTPUTS = ("-c", "textonly_pdf=1", "txt", "hocr", "pdf")
# What one Tesseract pass costs on the same page, by what it is asked for.
TESSERACT_MODES = {
    "psm 3, txt (bare)": ("--psm", "3", "txt"),
    "psm 3, txt hocr pdf (ours, upright page)": ("--psm", "3", *OURS_OUTPUTS),
    "psm 1, txt hocr pdf (ours, with orientation)": ("--psm", "1", *OURS_OUTPUTS),
    "psm 0 (orientation alone)": ("--psm", "0"),
}


def tesseract_modes(work: Path, repeat: int) -> dict[str, float]:
    """Median CPU seconds of one pass over the first French letter, per kind of pass."""
    work.mkdir(parents=True)
    letter = letters.letters(1)[0]
    pdf = letters.save_pdf([letter.image], work / "one.pdf")
    image = rasterise(pdf, work / "raster", 1)[0]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    found: dict[str, float] = {}
    for name, options in TESSERACT_MODES.items():
        samples = []
        for _ in range(max(3, repeat)):
            with Timer() as timer:
                command = ["tesseract", str(image), str(work / "mode"), "-l", LANGUAGES]
                subprocess.run(
                    [*command, "--dpi", "300", *options],
                    check=True,
                    capture_output=True,
                    env=env,
                )
            samples.append(timer.cpu)
        found[name] = round(statistics.median(samples), 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-ocrmypdf", action="store_true")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs per tool, interleaved; the fastest is kept (other work on the machine only "
        "ever slows a run down)",
    )
    parser.add_argument(
        "--service-runs",
        type=int,
        default=7,
        help="uploads timed to searchable through a real worker (median kept; 0: keep the "
        "last figures)",
    )
    parser.add_argument(
        "--scans",
        type=int,
        default=500,
        help="scans a real worker drains while its memory is sampled (0: keep the last figures)",
    )
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"the shared corpus is missing: {CORPUS.resolve()}")
    settings = replace(OcrSettings(), workers=args.workers, languages=LANGUAGES)
    work = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        pdf, labels = build_page_set(CACHE)
        print(f"{len(labels)} pages, {args.workers} workers, load average {os.getloadavg()}")
        report: dict = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            },
            "pages": [label for label, _ in labels],
            "languages": LANGUAGES,
        }
        images = rasterise(pdf, work / "raster", len(labels))
        program = None if args.skip_ocrmypdf else ocrmypdf_program()
        if program is None:
            print("ocrmypdf        : missing (not installed), no comparison")
        runs: dict[str, list[dict]] = {
            "tesseract": [],
            "ours": [],
            "ocrmypdf": [],
            "ocrmypdf_deskew_rotate": [],
        }
        for attempt in range(args.repeat):
            folder = work / f"run{attempt}"
            folder.mkdir()
            runs["tesseract"].append(run_bare(images, labels, folder, args.workers))
            print(f"tesseract alone : {runs['tesseract'][-1]}")
            runs["ours"].append(run_ours(pdf, labels, settings, folder))
            print(f"ours            : {runs['ours'][-1]}")
            if program is not None:
                runs["ocrmypdf"].append(run_ocrmypdf(program, pdf, labels, folder, args.workers))
                print(f"ocrmypdf        : {runs['ocrmypdf'][-1]}")
                # The same work as ours: straighten and turn pages upright.
                runs["ocrmypdf_deskew_rotate"].append(
                    run_ocrmypdf(
                        program, pdf, labels, folder, args.workers, ("--deskew", "--rotate-pages")
                    )
                )
                print(f"ocrmypdf -d -r  : {runs['ocrmypdf_deskew_rotate'][-1]}")
        for tool, results in runs.items():
            report[tool] = min(results, key=lambda r: r["seconds"]) if results else None
            if report[tool] is not None:
                report[tool]["all_seconds"] = [r["seconds"] for r in results]
        ours = report["ours"]["pages_per_second"]
        report["ratios"] = {
            "ours_vs_tesseract": round(ours / report["tesseract"]["pages_per_second"], 2),
            "ours_vs_ocrmypdf": (
                round(ours / report["ocrmypdf"]["pages_per_second"], 2)
                if report["ocrmypdf"]
                else None
            ),
            "ours_vs_ocrmypdf_deskew_rotate": (
                round(ours / report["ocrmypdf_deskew_rotate"]["pages_per_second"], 2)
                if report["ocrmypdf_deskew_rotate"]
                else None
            ),
            "cpu_ours_vs_ocrmypdf": (
                round(report["ocrmypdf"]["cpu_seconds"] / report["ours"]["cpu_seconds"], 2)
                if report["ocrmypdf"]
                else None
            ),
        }
        print(f"ratios          : {report['ratios']}")
        report["pages_ours_against"] = {
            tool: compare_pages(report, tool)
            for tool in ("tesseract", "ocrmypdf", "ocrmypdf_deskew_rotate")
            if report[tool]
        }
        print(f"pages, ours vs  : {report['pages_ours_against']}")
        report["one_page"] = min(
            (run_one_page(work / f"one{n}", settings) for n in range(args.repeat)),
            key=lambda r: r["ours_seconds"],
        )
        print(f"one page        : {report['one_page']}")
        report["tesseract_pass_cpu_seconds"] = tesseract_modes(work / "modes", args.repeat)
        print(f"tesseract passes: {report['tesseract_pass_cpu_seconds']}")
        # Imported only now: the pipeline is measured in a process without the service stack.
        from bench.ocr import service

        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        for key, measure in (
            ("upload_to_searchable", lambda: service.upload_to_searchable(args.service_runs)),
            (
                "upload_to_searchable_idle_poll_1s",
                lambda: service.upload_to_searchable(args.service_runs, max_delay=1.0),
            ),
            ("drain", lambda: service.drain(args.scans)),
        ):
            skip = args.scans == 0 if key == "drain" else args.service_runs == 0
            if skip:
                # Not measured this time: the last figures stay, marked as such.
                if key in previous:
                    report[key] = {**previous[key], "from_an_earlier_run": True}
                continue
            report[key] = measure()
            shown = {k: v for k, v in report[key].items() if k not in ("samples", "note")}
            print(f"{key}: {shown}")
        for key, value in previous.items():
            if key.startswith("upload_to_searchable") and key not in report:
                report[key] = {**value, "from_an_earlier_run": True}  # service.py --command
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
