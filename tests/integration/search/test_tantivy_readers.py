"""A search sees what another process committed at once, not when tantivy's watcher notices.

The worker indexes a scan's text right after its OCR; the web (another process) must find it on
the next search, or a page opened then shows nothing for up to half a second.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ged.adapters.search_tantivy import TantivySearchIndex
from ged.domain.search import IndexedItem, SearchQuery, Visibility

EVERYTHING = Visibility(everything=True)


def _letter(number: int, word: str) -> IndexedItem:
    return IndexedItem(
        f"mail:{number}", "mail", number, f"Lettre {number}", dt.date(2026, 3, 2), body=word
    )


def _found(index: TantivySearchIndex, word: str) -> list[int]:
    return [hit.object_id for hit in index.search(SearchQuery(text=word), EVERYTHING).hits]


def test_a_reader_sees_another_writers_commit_on_its_next_search(tmp_path: Path) -> None:
    worker = TantivySearchIndex(tmp_path / "index")
    web = TantivySearchIndex(tmp_path / "index")
    worker.upsert([_letter(1, "lotissement")])
    assert _found(web, "lotissement") == [1]  # the reader is open now

    worker.upsert([_letter(2, "morcellement")])
    assert _found(web, "morcellement") == [2]
    worker.delete(["mail:1"])
    assert _found(web, "lotissement") == []
