"""OCR and capture pipeline: paths and settings in, dataclasses out; no database."""

from ocr.detect import ACCEPTED_TYPES, detect_media_type
from ocr.errors import ErrorCode, OcrError
from ocr.pipeline import OcrSettings, installed_languages, process
from ocr.quality import character_error_rate
from ocr.results import OcrResult, PageText, TextSource

__all__ = [
    "ACCEPTED_TYPES",
    "ErrorCode",
    "OcrError",
    "OcrResult",
    "OcrSettings",
    "PageText",
    "TextSource",
    "character_error_rate",
    "detect_media_type",
    "installed_languages",
    "process",
]
