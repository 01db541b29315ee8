"""The one error the OCR pipeline raises for a bad document: a reason in French and a machine code."""

from __future__ import annotations

from typing import Literal, get_args

ErrorCode = Literal[
    "unsupported-type",
    "too-large",
    "too-many-pages",
    "too-many-pixels",
    "timeout",
    "memory",
    "encrypted",
    "malformed",
]

ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))


class OcrError(Exception):
    """A document the pipeline refuses or cannot read.

    `reason` is shown to a secretary as is; `code` lets the caller decide (retry a timeout with a
    larger limit, never retry an unsupported type); `page` is the 1-based page at fault, if any.
    """

    def __init__(self, code: ErrorCode, reason: str, page: int | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown OCR error code: {code!r}")
        super().__init__(reason)
        self.code: ErrorCode = code
        self.reason = reason
        self.page = page

    def __reduce__(self) -> tuple[type[OcrError], tuple[ErrorCode, str, int | None]]:
        # Background job queues pickle exceptions; keep the three fields across the trip.
        return (OcrError, (self.code, self.reason, self.page))

    def __repr__(self) -> str:
        return f"OcrError({self.code!r}, {self.reason!r}, page={self.page!r})"
