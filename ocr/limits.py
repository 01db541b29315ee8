"""Run work in child processes under a time and a memory limit, so a bad file cannot hurt the caller.

Each call runs in its own child process, forked from a `forkserver` (a small, clean process that
has imported the OCR modules once): the child starts in milliseconds, does not inherit the
caller's memory, threads or open database connections, does not import the caller's main script
(`_Popen`), and its address-space limit counts only what the page needs. In the child:
- `RLIMIT_AS` caps memory; the programs it starts (pdftoppm, tesseract) inherit the cap;
- `RLIMIT_CPU` is a backstop that ends the child even if the caller died;
- it leads a new process group, so a timeout kills pdftoppm and tesseract with it;
- `OMP_THREAD_LIMIT=1`: Tesseract's OpenMP threads make it 4–5× slower on our 2-core machines;
  parallelism comes from running pages in separate children instead;
- Pillow's decompression-bomb limit is the page pixel limit, and its warning is an error.
The caller waits with a deadline per child; a child that overruns it is killed with its group,
and every failure becomes an `OcrError` for that document.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import multiprocessing
import os
import resource
import signal
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from PIL import Image

from ocr.errors import ERROR_CODES, ErrorCode, OcrError

A = TypeVar("A")
R = TypeVar("R")

_log = logging.getLogger(__name__)

# Modules the forkserver imports once, so each child starts with them loaded.
PRELOAD = ["ocr.pages"]
# Time a child that has sent its result gets to exit before it is killed.
_EXIT_GRACE_S = 5.0


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int
    pixels: int


@dataclass
class _Running:
    index: int
    process: BaseProcess
    results: Connection
    deadline: float


def _apply_limits(limits: Limits) -> None:
    with contextlib.suppress(OSError):  # already a group leader
        os.setsid()
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ["OMP_THREAD_LIMIT"] = "1"
    Image.MAX_IMAGE_PIXELS = limits.pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def _child_main(results: Connection, func: Callable[[Any], Any], arg: Any, limits: Limits) -> None:
    message: tuple[Any, ...]
    try:
        _apply_limits(limits)
        message = ("ok", func(arg))
    except OcrError as exc:
        message = ("error", exc.code, exc.reason, None, exc.page)
    except MemoryError:
        message = ("error", "memory", None, None, None)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        message = ("error", "too-many-pixels", None, str(exc), None)
    except Exception:
        message = ("error", "malformed", None, traceback.format_exc(limit=8), None)
    try:
        results.send(message)
    except MemoryError:
        results.send(("error", "memory", None, None, None))
    finally:
        results.close()


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    # Only takes effect before the forkserver starts; later calls change nothing.
    context.set_forkserver_preload(PRELOAD)
    return context


class _Popen(popen_forkserver.Popen):
    """Starts a child from the forkserver without the caller's main script.

    multiprocessing has every child import the parent's main script when it was run by path, and
    Python 3.11's forkserver never imports it once for all (it looks for the path under a key
    the preparation data does not use). Under the `ged` command that script imports Flask and
    the whole application: 1.2 CPU-s and 5 s per child here, three children for a one-page
    document. Our children run `_child_main` on jobs of `ocr.pages`, imported by name, and
    never need it: this is multiprocessing's own `_launch` with the main script left out.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        fds: list[int] = self._fds  # type: ignore[attr-defined]
        self.sentinel, w = forkserver.connect_to_new_process(fds)
        # As multiprocessing does: a duplicate of the write end tells the child its parent lives.
        parent_w = os.dup(w)
        close_fds = util.close_fds  # type: ignore[attr-defined]
        self.finalizer = util.Finalize(self, close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Child(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:  # noqa: N802 (multiprocessing's name)
        return _Popen(process_obj)


def _kill(process: BaseProcess) -> None:
    pid = process.pid
    if pid is not None and process.is_alive():
        # The child leads its own group: this also ends pdftoppm and tesseract.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        process.kill()
    process.join(_EXIT_GRACE_S)


def _failure(
    code: str, reason: str | None, page: int | None, limits: Limits, detail: str | None
) -> OcrError:
    where = f"la page {page}" if page else "le document"
    if code not in ERROR_CODES:
        code = "malformed"
    checked: ErrorCode = code  # type: ignore[assignment]
    if detail:
        _log.warning("OCR child failed (%s) on %s: %s", checked, where, detail)
    if reason:
        return OcrError(checked, reason, page)
    if checked == "memory":
        reason = (
            f"La lecture de {where} demande plus de mémoire que permis "
            f"({limits.memory_mb} Mo) : le fichier est peut-être piégé ou trop lourd."
        )
    elif checked == "timeout":
        reason = (
            f"La lecture de {where} a dépassé le temps permis ({limits.seconds:g} s) : "
            "le fichier est peut-être piégé ou trop lourd."
        )
    elif checked == "too-many-pixels":
        reason = f"Une image de {where} est trop grande pour être lue sans risque."
    else:
        reason = f"Le fichier est endommagé ou illisible ({where} n'a pas pu être lue)."
    return OcrError(checked, reason, page)


def _died(process: BaseProcess, page: int | None, limits: Limits) -> OcrError:
    code = process.exitcode
    if code == -signal.SIGXCPU:
        return _failure("timeout", None, page, limits, None)
    if code == -signal.SIGKILL:
        # Nobody here sent it: the kernel's out-of-memory killer did.
        return _failure("memory", None, page, limits, None)
    return _failure("malformed", None, page, limits, f"child exited with {code}")


def run_all(
    func: Callable[[A], R],
    args: Sequence[A],
    limits: Limits,
    workers: int,
    pages: Sequence[int | None] | None = None,
) -> list[R]:
    """`[func(arg) for arg in args]`, each call in a limited child, at most `workers` at a time.

    `func` and the arguments must be importable by module name: the children do not import the
    caller's main script (see `_Popen`).

    The first failure stops the batch: running children are killed and an OcrError is raised,
    naming `pages[i]` (the page of the failing call) when given.
    """
    context = _context()
    page_of = list(pages) if pages is not None else [None] * len(args)
    results: list[Any] = [None] * len(args)
    waiting = deque(range(len(args)))
    running: dict[int, _Running] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, workers):
                index = waiting.popleft()
                receiver, sender = context.Pipe(duplex=False)
                process = _Child(
                    target=_child_main, args=(sender, func, args[index], limits), daemon=True
                )
                process.start()
                sender.close()
                running[index] = _Running(
                    index, process, receiver, time.monotonic() + limits.seconds
                )
            timeout = max(0.0, min(r.deadline for r in running.values()) - time.monotonic())
            ready = set(
                wait(
                    [r.results for r in running.values()]
                    + [r.process.sentinel for r in running.values()],
                    timeout,
                )
            )
            for index, run in list(running.items()):
                if run.results in ready or run.process.sentinel in ready:
                    message = _receive(run)
                    if message is None:
                        if run.process.is_alive():
                            continue
                        raise _died(run.process, page_of[index], limits)
                    del running[index]
                    run.results.close()
                    run.process.join(_EXIT_GRACE_S)
                    if run.process.is_alive():
                        _kill(run.process)
                    if message[0] != "ok":
                        _, code, reason, detail, page = message
                        page = page_of[index] if page is None else page
                        raise _failure(code, reason, page, limits, detail)
                    results[index] = message[1]
                elif time.monotonic() >= run.deadline:
                    raise _failure("timeout", None, page_of[index], limits, None)
    finally:
        for run in running.values():
            _kill(run.process)
            run.results.close()
    return results


def _receive(run: _Running) -> tuple[Any, ...] | None:
    try:
        if not run.results.poll():
            return None
        message: tuple[Any, ...] = run.results.recv()
    except (EOFError, OSError):
        return None
    return message


def run_one(func: Callable[[A], R], arg: A, limits: Limits, page: int | None = None) -> R:
    """`func(arg)` in one limited child."""
    return run_all(func, [arg], limits, workers=1, pages=[page])[0]
