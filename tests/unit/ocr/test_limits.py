"""Children under limits: the caller survives whatever a page does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocr import OcrError
from ocr.limits import Limits, run_all, run_one

LIMITS = Limits(seconds=20.0, memory_mb=400, pixels=1_000_000)


def _square(value: int) -> int:
    return value * value


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def _refuse(page: int) -> None:
    raise OcrError("malformed", f"page {page} refusée", page)


def _exit(code: int) -> None:
    os._exit(code)


def _killed(_: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _fail(_: int) -> None:
    raise ValueError("an unexpected bug")


def _environment(name: str) -> str | None:
    return os.environ.get(name)


def test_results_come_back_in_order_across_workers() -> None:
    assert run_all(_square, list(range(7)), LIMITS, workers=2) == [n * n for n in range(7)]


def test_each_child_reads_with_one_openmp_thread() -> None:
    assert run_one(_environment, "OMP_THREAD_LIMIT", LIMITS) == "1"


def test_a_page_over_time_is_killed_and_reported() -> None:
    with pytest.raises(OcrError) as failed:
        run_all(_sleep, [0.0, 60.0], Limits(3.0, 400, 1), workers=2, pages=[1, 2])
    assert failed.value.code == "timeout"
    assert failed.value.page == 2
    assert "temps" in failed.value.reason


def test_a_page_over_memory_is_reported() -> None:
    with pytest.raises(OcrError) as failed:
        run_one(_allocate, 2048, LIMITS, page=3)
    assert failed.value.code == "memory"
    assert "mémoire" in failed.value.reason
    assert failed.value.page == 3


def test_a_refusal_in_the_child_keeps_its_reason() -> None:
    with pytest.raises(OcrError) as failed:
        run_one(_refuse, 4, LIMITS, page=4)
    assert (failed.value.code, failed.value.reason, failed.value.page) == (
        "malformed",
        "page 4 refusée",
        4,
    )


@pytest.mark.parametrize(("func", "code"), [(_exit, "malformed"), (_killed, "memory")])
def test_a_child_that_dies_becomes_an_error(func: object, code: str) -> None:
    with pytest.raises(OcrError) as failed:
        run_one(func, 3, LIMITS)  # type: ignore[arg-type]
    assert failed.value.code == code


def test_a_bug_in_the_child_is_a_malformed_document_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(OcrError) as failed:
        run_one(_fail, 1, LIMITS, page=1)
    assert failed.value.code == "malformed"
    assert "an unexpected bug" in caplog.text


def test_the_caller_is_fine_after_a_batch_fails() -> None:
    with pytest.raises(OcrError):
        run_all(_sleep, [60.0, 60.0], Limits(0.3, 400, 1), workers=2)
    assert run_one(_square, 9, LIMITS) == 81


MAIN_SCRIPT = """
import os
import sys

sys.path.insert(0, os.environ["ROOT"])
with open(os.environ["MARK"], "a") as mark:
    mark.write("imported\\n")

from ocr.limits import Limits, run_all

if __name__ == "__main__":
    print(run_all(len, ["a", "bb", "ccc"], Limits(20.0, 400, 1_000_000), workers=2))
"""


def test_children_do_not_import_the_callers_main_script(tmp_path: Path) -> None:
    # Under the `ged` command the main script imports the whole application: a second of CPU
    # per page if every child imported it again, as multiprocessing would have it do.
    script = tmp_path / "main.py"
    script.write_text(MAIN_SCRIPT, encoding="utf-8")
    mark = tmp_path / "imports.txt"
    root = str(Path(__file__).resolve().parents[3])
    completed = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "ROOT": root, "MARK": str(mark)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert completed.stdout.strip() == "[1, 2, 3]"
    assert mark.read_text(encoding="utf-8").splitlines() == ["imported"]
