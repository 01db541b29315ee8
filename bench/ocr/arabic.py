"""Letters kept apart from the benchmark's pages: the sets changes 8 and 11 were decided and checked on.

    PYTHONPATH=. .venv/bin/python bench/ocr/arabic.py [--set dev|bench|held|mixed|french]
        [--languages fra+ara]

Sets (docs/ocr-performance.md, round 4): `dev`, the development set (seeds 200-223), the only
one candidates were decided on; `bench`, the benchmark's first eight Arabic letters (seeds
0-7); `held`, the held-out letters (seeds 100-107); `mixed`, Arabic letters quoting one to three
French lines (seeds 300-311); `french`, French letters (seeds 200-223, the French texts in
turn; change 11's development set). Letter n of a set takes the Arabic texts and `letters.SKEWS` in
turn. Each is saved as the benchmark saves it (one q85 JPEG per PDF page) and read by the
pipeline, one page at a time; prints each page's character error rate, the languages it was
read with and its CPU seconds, then the mean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.ocr import letters  # noqa: E402
from ocr import OcrSettings, character_error_rate, process  # noqa: E402

SETS = {
    "dev": range(200, 224),
    "bench": range(0, 8),
    "held": range(100, 108),
    "mixed": range(300, 312),
    "french": range(200, 224),
}


def lines_of(set_name: str, index: int) -> tuple[str, ...]:
    if set_name == "french":
        return letters.FRENCH[index % len(letters.FRENCH)]
    lines = list(letters.ARABIC[index % len(letters.ARABIC)])
    if set_name == "mixed":
        french = letters.FRENCH[index % len(letters.FRENCH)]
        for number in range(1 + index // 4):
            lines.insert(2 + 3 * number, french[4 + number])
    return tuple(lines)


def children_cpu() -> float:
    # The page children are the forkserver's; `bench.ocr.run` reads their time from /proc.
    from bench.ocr.run import children_cpu as cpu

    return cpu()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="dev")
    parser.add_argument("--languages", default="fra+ara")
    args = parser.parse_args()
    settings = replace(OcrSettings(), workers=1, languages=args.languages)
    rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-ocr-arabic-") as folder:
        work = Path(folder)
        for index, seed in enumerate(SETS[args.set]):
            lines = lines_of(args.set, index)
            skew = letters.SKEWS[index % len(letters.SKEWS)]
            language = "fra" if args.set == "french" else "ara"
            letter = letters.render(lines, language, seed=seed, skew=skew)
            pdf = letters.save_pdf([letter.image], work / f"{args.set}-{seed}.pdf")
            before = children_cpu()
            result = process(pdf, settings, work / f"out-{seed}")
            rate = character_error_rate(letter.text, result.text)
            rates.append(rate)
            used = result.pages[0].language
            print(
                f"{args.set}-{seed}: {100 * rate:6.2f} %  {used:8s} {children_cpu() - before:5.2f} CPU-s"
            )
    print(f"mean {100 * sum(rates) / len(rates):.2f} % over {len(rates)} letters")


if __name__ == "__main__":
    main()
