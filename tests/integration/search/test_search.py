"""Search through the service layer: the index follows the database, filtered by permissions."""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ged.adapters.orm import Mail, MailDocument, PageText, Version
from ged.adapters.search_whoosh import (
    NARROW_SHARE,
    WhooshSearchIndex,
    _matches,
    _matching,
    _narrow,
)
from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.domain.model import Role
from ged.domain.search import IndexedItem, SearchQuery, Visibility
from ged.services.audit import Actor
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.builders import SYSTEM, Builders


class World:
    def __init__(self, container: Container, build: Builders) -> None:
        self.container = container
        self.sau = build.unit("SAU")
        self.sj = build.unit("SJ")
        self.registrar = build.actor(build.user("bo", role=Role.REGISTRAR))
        self.agent_sau = build.actor(build.user("agent.sau", unit_id=self.sau))
        self.agent_sj = build.actor(build.user("agent.sj", unit_id=self.sj))
        self.auditor = build.actor(build.user("audit", role=Role.AUDITOR))
        self.type_id = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)

    def register(
        self,
        subject: str,
        scan_text: str,
        unit: int,
        confidential: bool = False,
        people: tuple[int, ...] = (),
        mail_date: dt.date | None = None,
    ) -> int:
        registered = self.container.registry.register(
            self.registrar,
            MailInput(
                "incoming",
                subject,
                correspondent_name="Commune urbaine de Rabat",
                mail_type_id=self.type_id,
                unit_ids=(unit,),
                confidential=confidential,
                person_ids=people,
                mail_date=mail_date,
            ),
            [Upload(io.BytesIO(b"%PDF-1.4 " + subject.encode()), "scan.pdf")],
        )
        self.give_text(registered.id, scan_text)
        return registered.id

    def give_text(self, mail_id: int, text: str) -> None:
        """What the OCR job records for a scan, then the re-index it triggers."""
        with self.container.writer() as uow:
            version_id = uow.session.execute(
                select(Version.id)
                .join(MailDocument, MailDocument.document_id == Version.document_id)
                .where(MailDocument.mail_id == mail_id)
            ).scalar_one()
            uow.session.add(PageText(version_id=version_id, page=1, text=text, language="fra"))
            uow.commit()
        self.container.jobs.enqueue("index_mail", mail_id)

    def find(self, actor: Actor, text: str = "", **filters: object) -> list[int]:
        results = self.container.search.search(actor, SearchQuery(text=text, **filters))  # type: ignore[arg-type]
        return sorted(hit.object_id for hit in results.hits)


@pytest.fixture
def world(container: Container, build: Builders) -> World:
    return World(container, build)


def test_a_word_only_in_the_scan_finds_the_mail(world: World) -> None:
    mail = world.register("Demande", "Le pétitionnaire sollicite un lotissement", world.sau)
    assert world.find(world.agent_sau, "lotissements") == [mail]


def test_french_and_arabic_variants_find_the_same_letter(world: World) -> None:
    mail = world.register(
        "طلب رخصة البناء", "نطلب منكم رُخْصَة البِنَاء والأشغال — éclairage public", world.sau
    )
    for typed in ("رخصة", "البناء", "بناء", "الاشغال", "eclairage", "Éclairages"):
        assert world.find(world.agent_sau, typed) == [mail], typed


def test_nothing_of_another_units_mail_leaks(world: World) -> None:
    mine = world.register("Lotissement Agdal", "lotissement zone nord", world.sau)
    theirs = world.register("Lotissement Hassan", "lotissement contentieux", world.sj)
    results = world.container.search.search(world.agent_sau, SearchQuery(text="lotissement"))
    assert [h.object_id for h in results.hits] == [mine]
    assert results.total == 1
    assert dict(results.facets["unit"]) == {str(world.sau): 1}
    assert all("contentieux" not in h.highlight for h in results.hits)
    # A typo whose correction exists only in the other unit's mail gets no suggestion.
    assert (
        world.container.search.search(world.agent_sau, SearchQuery(text="contentieu")).suggestion
        is None
    )
    assert world.find(world.agent_sj, "lotissement") == [theirs]
    assert world.find(world.auditor, "lotissement") == sorted([mine, theirs])
    assert [h.chrono for h in world.container.search.lookup_chrono(world.agent_sau, "A-")] == [
        world.container.registry.get(world.registrar, mine).mail.chrono
    ]


def test_confidential_mail_is_found_only_by_the_people_named_on_it(
    world: World, build: Builders
) -> None:
    named_id = build.user("named", unit_id=world.sj)
    named = build.actor(named_id)
    secret = world.register("Enquête", "dossier disciplinaire", world.sau, True, (named_id,))
    assert world.find(world.agent_sau, "disciplinaire") == []
    assert world.find(named, "disciplinaire") == [secret]
    assert world.find(world.auditor, "disciplinaire") == [secret]


def test_field_filters_dates_facets_and_sort(world: World) -> None:
    old = world.register("Réclamation voirie", "voirie", world.sau, mail_date=dt.date(2026, 1, 5))
    new = world.register("Demande voirie", "voirie", world.sau, mail_date=dt.date(2026, 2, 5))
    assert world.find(world.agent_sau, "from:rabat voirie") == sorted([old, new])
    assert world.find(world.agent_sau, "from:casablanca voirie") == []
    assert world.find(world.agent_sau, "type:DEM") == sorted([old, new])
    january = world.find(
        world.agent_sau, "voirie", date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31)
    )
    assert january == [old]
    by_date = world.container.search.search(
        world.agent_sau, SearchQuery(text="voirie", sort="-date")
    )
    assert [h.object_id for h in by_date.hits] == [new, old]
    assert dict(by_date.facets["year"]) == {"2026": 2}
    assert dict(by_date.facets["direction"]) == {"incoming": 2}


def test_highlights_are_escaped_html(world: World) -> None:
    world.register("XSS", "<script>alert(1)</script> lotissement", world.sau)
    [hit] = world.container.search.search(world.agent_sau, SearchQuery(text="lotissement")).hits
    assert "<script>" not in hit.highlight
    assert "&lt;/script&gt;" in hit.highlight
    assert "<mark" in hit.highlight


def test_did_you_mean_on_a_typo(world: World) -> None:
    world.register("Lotissement", "autorisation de lotir", world.sau)
    results = world.container.search.search(world.agent_sau, SearchQuery(text="autorisaton"))
    assert results.total == 0
    assert results.suggestion == "autorisation"


def test_overlong_query_is_refused_clearly(world: World) -> None:
    with pytest.raises(ValidationError, match="trop longue"):
        world.container.search.search(world.agent_sau, SearchQuery(text="a " * 25_000))


def test_reindex_rebuilds_a_deleted_index(world: World, container: Container) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    container.search.index.close()
    shutil.rmtree(container.settings.index_dir)
    assert container.search.reindex() == 1
    assert world.find(world.agent_sau, "lotissement") == [mail]


def test_reindex_rebuilds_a_corrupt_index(world: World, container: Container) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    container.search.index.close()
    for path in container.settings.index_dir.iterdir():
        path.write_bytes(b"garbage")
    container.search.reindex()
    assert world.find(world.agent_sau, "lotissement") == [mail]


def test_the_sweep_reindexes_mail_whose_job_was_lost(world: World, container: Container) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    with container.writer() as uow:
        row = uow.session.get(Mail, mail)
        assert row is not None
        row.subject = "Parcellaire"
        row.updated_at = dt.datetime.now(dt.UTC)
        uow.commit()  # no job enqueued: as if the process died right after the commit
    assert world.find(world.agent_sau, "parcellaire") == []
    assert container.search.stale() == ([mail], [])
    container.jobs.run_now("sweep_index")
    assert world.find(world.agent_sau, "parcellaire") == [mail]


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
