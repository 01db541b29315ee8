"""Whoosh's own query shortcuts (the behaviour both engines share is in ``test_backends.py``)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from ged.adapters.search_whoosh import (
    NARROW_SHARE,
    WhooshSearchIndex,
    _matches,
    _matching,
    _narrow,
)
from ged.domain.search import IndexedItem, Visibility


def test_a_narrow_permission_set_finds_the_same_hits_as_the_whole_index(tmp_path: Path) -> None:
    """Few visible documents: the query jumps between them (skip_to) instead of reading every
    posting. Over several segments with deletions, it must find exactly what a full walk finds."""
    rng = random.Random(6)
    words = ["permis", "construire", "voirie", "lotissement", "رخصة", "البناء", "façade"]
    index = WhooshSearchIndex(tmp_path / "index")
    for segment in range(3):  # one commit each: three segments
        index.upsert(
            IndexedItem(
                key=f"mail:{n}",
                kind="mail",
                object_id=n,
                title="Courrier",
                date=dt.date(2026, 1, 1),
                body=" ".join(rng.choices(words, k=12)),
                units=(n % 7,),
            )
            for n in range(segment * 200, segment * 200 + 200)
        )
    index.delete([f"mail:{n}" for n in range(0, 600, 9)])
    generation = index._current()
    searcher = generation.searcher
    for text in (
        "permis",
        "permis voirie",
        '"permis de construire"',
        "رخصة OR façade",
        "voirie NOT permis",
        '"permis de construire" OR lotissement',
    ):
        parsed = index._parse(searcher, text)
        everything = frozenset(searcher.docs_for_query(parsed))
        allowed = generation.visible(Visibility(units=frozenset({3}), user_id=1))
        assert allowed is not None
        assert 0 < len(allowed) < NARROW_SHARE * generation.size
        assert _matching(searcher, parsed, allowed, generation.size) == everything & allowed
        assert everything & allowed, text
        # Word sets, then positions where needed: the same hits, for few, many or all.
        for visible in (allowed, generation.visible(Visibility(all_open_mail=True)), None):
            hits, _ = _matches(generation, parsed, visible, scored=True)
            assert hits == (everything if visible is None else everything & visible), text
        # Scored only where allowed, the hits keep Whoosh's own scores.
        scores = _narrow(searcher, parsed, allowed, scored=True)
        whole = searcher.search(parsed, filter=set(allowed), limit=None)
        assert {hit.docnum: hit.score for hit in whole} == pytest.approx(scores)
        hits, summed = _matches(generation, parsed, allowed, scored=True)
        if "NOT" in text:  # outside the word-set algebra: Whoosh ranks it itself
            assert summed is None
        else:
            assert summed == pytest.approx(scores), text
    index.close()
