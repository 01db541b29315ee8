"""One suite, every search engine: each test runs on Whoosh and on tantivy (``search_backend``).

Through the service layer on a real database, so both engines see the same items, the same
analysis (``ged.adapters.analysis``) and the same permissions.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import tantivy
from huey.consumer import Worker
from sqlalchemy import select
from whoosh import fields as whoosh_fields
from whoosh import index as whoosh_index

from ged import bootstrap
from ged.adapters.db import make_engine
from ged.adapters.orm import Mail, MailDocument, PageText, Version
from ged.adapters.search_tantivy import TantivySearchIndex
from ged.adapters.search_whoosh import WhooshSearchIndex
from ged.bootstrap import Container
from ged.config import SearchSettings, Settings
from ged.domain.errors import Conflict, GedError, StorageError, ValidationError
from ged.domain.model import Role
from ged.domain.search import IndexedItem, SearchQuery, SearchResults, Visibility
from ged.services.audit import Actor
from ged.services.documents import DocumentData, IncomingFile
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.builders import SYSTEM, Builders
from tests.integration.conftest import GedCommand


@pytest.fixture
def settings(settings: Settings, search_backend: str) -> Settings:
    return replace(settings, search=SearchSettings(backend=search_backend))


class World:
    def __init__(self, container: Container, build: Builders) -> None:
        self.container = container
        self.build = build
        self.sau = build.unit("SAU")
        self.sj = build.unit("SJ")
        self.registrar = build.actor(build.user("bo", role=Role.REGISTRAR))
        self.agent_sau = build.actor(build.user("agent.sau", unit_id=self.sau))
        self.agent_sj = build.actor(build.user("agent.sj", unit_id=self.sj))
        self.auditor = build.actor(build.user("audit", role=Role.AUDITOR))
        self.type_id = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
        self.rec_id = container.registry.create_mail_type(SYSTEM, "REC", "Réclamation", 10)

    def register(
        self,
        subject: str,
        scan_text: str,
        unit: int,
        confidential: bool = False,
        people: tuple[int, ...] = (),
        mail_date: dt.date | None = None,
        direction: str = "incoming",
        correspondent: str = "Commune urbaine de Rabat",
        mail_type_id: int | None = None,
    ) -> int:
        registered = self.container.registry.register(
            self.registrar,
            MailInput(
                direction,
                subject,
                correspondent_name=correspondent,
                mail_type_id=mail_type_id or self.type_id,
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

    def search(self, actor: Actor, text: str = "", **filters: object) -> SearchResults:
        return self.container.search.search(actor, SearchQuery(text=text, **filters))  # type: ignore[arg-type]

    def find(self, actor: Actor, text: str = "", **filters: object) -> list[int]:
        return sorted(hit.object_id for hit in self.search(actor, text, **filters).hits)


@pytest.fixture
def world(container: Container, build: Builders) -> World:
    return World(container, build)


# --- French and Arabic relevance ----------------------------------------------------------


def test_a_word_only_in_the_scan_finds_the_mail(world: World) -> None:
    mail = world.register("Demande", "Le pétitionnaire sollicite un lotissement", world.sau)
    assert world.find(world.agent_sau, "lotissements") == [mail]
    assert world.find(world.agent_sau, "petitionnaire") == [mail]


@pytest.mark.parametrize(
    "typed",
    ["éclairage", "eclairage", "ECLAIRAGE", "Éclairages", "autorisations", "l'autorisation"],
)
def test_french_accents_case_plurals_and_elisions(world: World, typed: str) -> None:
    mail = world.register("Voirie", "Demande d'autorisation pour l'éclairage public", world.sau)
    world.register("Voirie", "Réfection de la chaussée", world.sau)
    assert world.find(world.agent_sau, typed) == [mail]


ARABIC_LETTER = (
    "نطلب منكم رُخْصَة البِنَاء والأشغال لدى إدارة التعمير قرب آثار المدينة "
    "و مستشفى الحي مع المديرة ٱلعامة"
)


@pytest.mark.parametrize(
    "typed",
    [
        "رخصة",  # without diacritics
        "رُخْصَة",  # with them
        "البناء",  # with the article
        "بناء",  # without it
        "الأشغال",  # و + ال + hamza alef, typed without و
        "اشغال",  # bare
        "أشغال",  # alef with hamza above
        "ادارة",  # إ typed as ا
        "إدارة",
        "اثار",  # آ typed as ا
        "آثار",
        "مستشفي",  # ى typed as ي
        "مديره",  # ة typed as ه
        "العامة",  # ٱ in the letter
        "البنـــاء",  # tatweel
    ],
)
def test_arabic_variants_find_the_letter(world: World, typed: str) -> None:
    mail = world.register("طلب رخصة", ARABIC_LETTER, world.sau)
    world.register("Lotissement", "lotissement zone nord", world.sau)
    assert world.find(world.agent_sau, typed) == [mail]


def test_a_mixed_french_and_arabic_letter_is_found_in_both_languages(world: World) -> None:
    mail = world.register(
        "طلب رخصة البناء", "نطلب منكم رُخْصَة البِنَاء والأشغال — éclairage public", world.sau
    )
    for typed in ("رخصة", "البناء", "بناء", "الاشغال", "eclairage", "Éclairages"):
        assert world.find(world.agent_sau, typed) == [mail], typed
    assert world.find(world.agent_sau, "eclairage بناء") == [mail]
    [hit] = world.search(world.agent_sau, "eclairage بناء").hits
    assert "<mark>éclairage</mark>" in plain_marks(hit.highlight)
    assert "البِنَاء</mark>" in hit.highlight


def test_words_are_anded_and_phrases_keep_their_order(world: World) -> None:
    both = world.register("Voirie", "permis de construire et lotissement", world.sau)
    one = world.register("Voirie", "construire un lotissement, permis refusé", world.sau)
    other = world.register("Voirie", "permis de démolir", world.sau)
    assert world.find(world.agent_sau, "permis lotissement") == sorted([both, one])
    assert world.find(world.agent_sau, '"permis de construire"') == [both]
    assert world.find(world.agent_sau, "lotissement OR démolir") == sorted([both, one, other])
    assert world.find(world.agent_sau, "permis NOT lotissement") == [other]
    assert world.find(world.agent_sau, "(refusé OR démolir) permis") == sorted([one, other])


def test_a_title_match_ranks_above_a_body_match(world: World) -> None:
    in_body = world.register("Demande", "dossier de morcellement", world.sau)
    in_title = world.register("Morcellement", "dossier", world.sau)
    hits = world.search(world.agent_sau, "morcellement").hits
    assert [h.object_id for h in hits] == [in_title, in_body]


def test_stop_words_alone_find_nothing(world: World) -> None:
    world.register("Voirie", "le plan de la ville", world.sau)
    results = world.search(world.agent_sau, "de la")
    assert (results.total, list(results.hits)) == (0, [])


# --- filters, dates, facets, sort ---------------------------------------------------------


def test_field_filters_dates_facets_and_sort(world: World) -> None:
    old = world.register("Réclamation voirie", "voirie", world.sau, mail_date=dt.date(2026, 1, 5))
    new = world.register("Demande voirie", "voirie", world.sau, mail_date=dt.date(2026, 2, 5))
    assert world.find(world.agent_sau, "from:rabat voirie") == sorted([old, new])
    assert world.find(world.agent_sau, "de:rabat voirie") == sorted([old, new])
    assert world.find(world.agent_sau, "from:casablanca voirie") == []
    assert world.find(world.agent_sau, "type:DEM") == sorted([old, new])
    january = world.find(
        world.agent_sau, "voirie", date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31)
    )
    assert january == [old]
    by_date = world.search(world.agent_sau, "voirie", sort="-date")
    assert [h.object_id for h in by_date.hits] == [new, old]
    assert [h.object_id for h in world.search(world.agent_sau, "voirie", sort="date").hits] == [
        old,
        new,
    ]
    assert dict(by_date.facets["year"]) == {"2026": 2}
    assert dict(by_date.facets["direction"]) == {"incoming": 2}


def test_date_bounds_are_inclusive_and_counts_are_exact(world: World) -> None:
    days = [dt.date(2026, 3, d) for d in (1, 2, 3, 4, 5)]
    ids = [world.register(f"Voirie {d}", "voirie éclairage", world.sau, mail_date=d) for d in days]
    results = world.search(
        world.agent_sau, "voirie", date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 4)
    )
    assert results.total == 3
    assert sorted(h.object_id for h in results.hits) == ids[1:4]
    only_from = world.search(world.agent_sau, "eclairage", date_from=dt.date(2026, 3, 5))
    assert [h.object_id for h in only_from.hits] == [ids[4]]
    only_to = world.search(world.agent_sau, "", date_to=dt.date(2026, 3, 1))
    assert [h.object_id for h in only_to.hits] == [ids[0]]


def test_the_filters_of_the_form(world: World) -> None:
    a = world.register("Voirie", "voirie", world.sau, mail_date=dt.date(2025, 6, 1))
    b = world.register("Voirie", "voirie", world.sau, direction="outgoing")
    c = world.register("Voirie", "voirie", world.sj, mail_type_id=world.rec_id)
    everyone = world.auditor
    assert world.find(everyone, "voirie", direction="outgoing") == [b]
    assert world.find(everyone, "voirie", mail_type="REC") == [c]
    assert world.find(everyone, "voirie", unit=world.sj) == [c]
    assert world.find(everyone, "voirie", year=2025) == [a]
    assert world.find(everyone, "voirie", kind="mail") == sorted([a, b, c])
    assert world.find(everyone, "voirie", kind="document") == []
    assert world.find(everyone, "voirie", status="registered", unit=world.sau) == sorted([a, b])


def test_facets_count_every_visible_hit_not_only_the_page(world: World) -> None:
    for n in range(3):
        world.register(f"Voirie {n}", "voirie", world.sau)
    world.register("Voirie", "voirie", world.sj, mail_type_id=world.rec_id)
    results = world.search(world.auditor, "voirie", per_page=2)
    assert results.total == 4
    assert len(results.hits) == 2
    assert results.facets["unit"] == [(str(world.sau), 3), (str(world.sj), 1)]
    assert results.facets["mail_type"] == [("DEM", 3), ("REC", 1)]
    assert results.facets["year"] == [(str(dt.date.today().year), 4)]
    second = world.search(world.auditor, "voirie", per_page=2, page=2)
    assert {h.object_id for h in second.hits}.isdisjoint(h.object_id for h in results.hits)


def test_an_empty_query_lists_everything_visible_newest_first(world: World) -> None:
    old = world.register("Voirie", "voirie", world.sau, mail_date=dt.date(2026, 1, 5))
    new = world.register("Lotissement", "lotir", world.sau, mail_date=dt.date(2026, 2, 5))
    world.register("Caché", "autre unité", world.sj)
    results = world.search(world.agent_sau)
    assert [h.object_id for h in results.hits] == [new, old]
    assert results.total == 2


def test_chrono_lookup_by_prefix(world: World) -> None:
    first = world.register("Voirie", "voirie", world.sau)
    second = world.register("Voirie", "voirie", world.sau)
    outgoing = world.register("Voirie", "voirie", world.sau, direction="outgoing")
    chronos = {
        m: world.container.registry.get(world.registrar, m).mail.chrono
        for m in (first, second, outgoing)
    }
    found = world.container.search.lookup_chrono(world.agent_sau, "a-")
    assert [h.object_id for h in found] == [first, second]
    assert [h.chrono for h in found] == [chronos[first], chronos[second]]
    exact = world.container.search.lookup_chrono(world.agent_sau, chronos[outgoing])
    assert [h.object_id for h in exact] == [outgoing]
    assert world.container.search.lookup_chrono(world.agent_sau, "A") == []
    assert world.find(world.agent_sau, f"chrono:{chronos[second]}") == [second]


# --- highlights and suggestions -----------------------------------------------------------


def test_highlights_are_escaped_html(world: World) -> None:
    world.register("XSS", "<script>alert(1)</script> lotissement", world.sau)
    [hit] = world.search(world.agent_sau, "lotissement").hits
    assert "<script>" not in hit.highlight
    assert "&lt;/script&gt;" in hit.highlight
    assert "<mark" in hit.highlight


def test_highlights_mark_the_words_as_written_in_the_letter(world: World) -> None:
    text = "Objet : demande relative à l'Éclairage public du quartier. " + "Texte. " * 40
    world.register("Voirie", text + " Les éclairages de la place.", world.sau)
    [hit] = world.search(world.agent_sau, "eclairage").hits
    plain = plain_marks(hit.highlight)
    assert "<mark>Éclairage</mark>" in plain
    assert "<mark>éclairages</mark>" in plain
    assert len(hit.highlight) < len(text)  # passages, not the whole letter


def test_did_you_mean_on_a_typo(world: World) -> None:
    world.register("Lotissement", "autorisation de lotir", world.sau)
    results = world.search(world.agent_sau, "autorisaton")
    assert results.total == 0
    assert results.suggestion == "autorisation"
    assert world.search(world.agent_sau, "autorisation").suggestion is None


def test_overlong_query_is_refused_clearly(world: World) -> None:
    with pytest.raises(ValidationError, match="trop longue"):
        world.search(world.agent_sau, "a " * 25_000)


# --- permissions --------------------------------------------------------------------------


def test_nothing_of_another_units_mail_leaks(world: World) -> None:
    mine = world.register("Lotissement Agdal", "lotissement zone nord", world.sau)
    theirs = world.register("Lotissement Hassan", "lotissement contentieux", world.sj)
    results = world.search(world.agent_sau, "lotissement")
    assert [h.object_id for h in results.hits] == [mine]
    assert results.total == 1
    assert dict(results.facets["unit"]) == {str(world.sau): 1}
    assert all("contentieux" not in h.highlight for h in results.hits)
    # A typo whose correction exists only in the other unit's mail gets no suggestion.
    assert world.search(world.agent_sau, "contentieu").suggestion is None
    assert world.search(world.agent_sau, "contentieux").total == 0
    assert world.find(world.agent_sj, "lotissement") == [theirs]
    assert world.search(world.agent_sj, "contentieu").suggestion == "contentieux"
    assert world.find(world.auditor, "lotissement") == sorted([mine, theirs])
    assert world.find(world.registrar, "lotissement") == sorted([mine, theirs])
    lookup = world.container.search.lookup_chrono(world.agent_sau, "A-")
    assert [h.object_id for h in lookup] == [mine]
    assert [h.chrono for h in lookup] == [
        world.container.registry.get(world.registrar, mine).mail.chrono
    ]


def test_confidential_mail_is_found_only_by_the_people_named_on_it(
    world: World, build: Builders
) -> None:
    named_id = build.user("named", unit_id=world.sj)
    named = build.actor(named_id)
    secret = world.register("Enquête", "dossier disciplinaire", world.sau, True, (named_id,))
    assert world.find(world.agent_sau, "disciplinaire") == []
    assert world.find(world.registrar, "disciplinaire") == [secret]  # who registered it
    assert world.find(named, "disciplinaire") == [secret]
    assert world.find(world.auditor, "disciplinaire") == [secret]
    for who in (world.agent_sau, world.agent_sj):
        results = world.search(who, "")
        assert results.total == 0
        assert all(not counts for counts in results.facets.values())
        assert world.container.search.lookup_chrono(who, "A-") == []


def test_library_documents_follow_their_unit_and_confidentiality(
    world: World, container: Container
) -> None:
    agency = container.documents.create(
        SYSTEM, DocumentData(title="Note de service urbanisme"), _pdf()
    )
    unit_doc = container.documents.create(
        world.agent_sau, DocumentData(title="Rapport urbanisme SAU", unit_id=world.sau), _pdf()
    )
    secret = container.documents.create(
        world.agent_sau,
        DocumentData(title="Urbanisme confidentiel", unit_id=world.sau, confidential=True),
        _pdf(),
    )
    assert world.find(world.agent_sj, "urbanisme", kind="document") == [agency]
    assert world.find(world.agent_sau, "urbanisme", kind="document") == sorted(
        [agency, unit_doc, secret]  # the author of the confidential one is named on it
    )
    assert world.find(world.auditor, "urbanisme") == sorted([agency, unit_doc, secret])


def test_the_index_applies_every_rule_of_a_visibility(container: Container) -> None:
    """The port itself, item by item: each kind of visibility sees exactly what it should."""
    day = dt.date(2026, 5, 1)
    items = [
        IndexedItem("mail:1", "mail", 1, "voirie", day, "A-1", units=(1,)),
        IndexedItem("mail:2", "mail", 2, "voirie", day, "A-2", units=(2,)),
        IndexedItem("mail:3", "mail", 3, "voirie", day, "A-3", units=(1,), confidential=True),
        IndexedItem("mail:4", "mail", 4, "voirie", day, "A-4", people=(9,), confidential=True),
        IndexedItem("document:1", "document", 1, "voirie", day),
        IndexedItem("document:2", "document", 2, "voirie", day, units=(2,)),
        IndexedItem("document:3", "document", 3, "voirie", day, units=(1,), confidential=True),
    ]
    index = container.search.index
    index.upsert(items)

    def keys(visibility: Visibility) -> list[str]:
        results = index.search(SearchQuery(text="voirie"), visibility)
        assert results.total == len(results.hits)
        assert sum(n for _, n in results.facets["year"]) == results.total
        return sorted(h.key for h in results.hits)

    assert keys(Visibility(units=frozenset({1}))) == ["document:1", "mail:1"]
    assert keys(Visibility(units=frozenset({2}), user_id=9)) == [
        "document:1",
        "document:2",
        "mail:2",
        "mail:4",
    ]
    assert keys(Visibility(all_open_mail=True)) == ["document:1", "mail:1", "mail:2"]
    assert keys(Visibility(all_open_documents=True)) == ["document:1", "document:2"]
    assert len(keys(Visibility(everything=True))) == len(items)
    assert keys(Visibility()) == ["document:1"]


# --- updates, deletes, reindex ------------------------------------------------------------


def test_an_edited_mail_is_found_by_its_new_words_only(world: World, container: Container) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    with container.writer() as uow:
        row = uow.session.get(Mail, mail)
        assert row is not None
        row.subject = "Parcellaire"
        row.updated_at = dt.datetime.now(dt.UTC)
        uow.commit()
    container.jobs.enqueue("index_mail", mail)
    assert world.find(world.agent_sau, "parcellaire") == [mail]
    [hit] = world.search(world.agent_sau, "lotissement").hits  # still in the scan
    assert hit.title == "Parcellaire"
    assert container.search.index.count() == 1


def test_a_deleted_document_leaves_the_index(world: World, container: Container) -> None:
    document = container.documents.create(
        world.agent_sau, DocumentData(title="Plan d'aménagement", unit_id=world.sau), _pdf()
    )
    assert world.find(world.agent_sau, "amenagement") == [document]
    container.documents.delete(world.agent_sau, document)
    assert world.find(world.agent_sau, "amenagement") == []
    assert container.search.index.count() == 0


def test_delete_by_key_through_the_port(container: Container) -> None:
    day = dt.date(2026, 5, 1)
    index = container.search.index
    index.upsert(IndexedItem(f"mail:{n}", "mail", n, "voirie", day) for n in (1, 2, 3))
    index.delete(["mail:2", "mail:404"])
    everything = Visibility(everything=True)
    assert sorted(h.key for h in index.search(SearchQuery("voirie"), everything).hits) == [
        "mail:1",
        "mail:3",
    ]
    assert index.count() == 2


def test_an_item_given_twice_is_indexed_once(container: Container) -> None:
    day = dt.date(2026, 5, 1)
    index = container.search.index
    everything = Visibility(everything=True)
    for _ in range(2):  # into an empty index, then into a full one
        index.upsert(
            [
                IndexedItem("mail:1", "mail", 1, "voirie", day),
                IndexedItem("mail:2", "mail", 2, "voirie", day),
                IndexedItem("mail:1", "mail", 1, "parcellaire", day),
            ]
        )
        assert index.count() == 2
        assert [h.key for h in index.search(SearchQuery("parcellaire"), everything).hits] == [
            "mail:1"
        ]
        assert [h.key for h in index.search(SearchQuery("voirie"), everything).hits] == ["mail:2"]


def test_reindex_rebuilds_from_the_database(world: World, container: Container) -> None:
    mails = [world.register(f"Voirie {n}", "éclairage public", world.sau) for n in range(3)]
    container.search.index.upsert(
        [IndexedItem("mail:999", "mail", 999, "fantôme", dt.date(2026, 1, 1), units=(world.sau,))]
    )
    assert container.search.reindex() == 3
    assert world.find(world.agent_sau, "eclairage") == mails
    assert world.find(world.agent_sau, "fantome") == []
    assert container.search.index.count() == 3


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
        if path.is_file():
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


# --- a writer killed or alive in another process ------------------------------------------
#
# Both engines take their write lock with ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a file in the
# index folder, retried until ``lock_timeout``. A flock belongs to the open file, so the kernel
# releases it when the holding process dies, SIGKILL included: the file stays behind, unlocked,
# and the next writer takes it at once; there is no stale lock to clear. The killed writer's
# uncommitted documents are lost and the index stays readable. Only a *live* holder (a second
# worker, a hung one) keeps the lock: a writer then fails after ``lock_timeout`` with a
# ``Conflict`` that says so and what to do. (On NFS, flock may not be shared between machines:
# keep the index local.)

LOCK_FILES = {"whoosh": "ged_WRITELOCK", "tantivy": ".tantivy-writer.lock"}

HOLDERS = {
    "whoosh": """
import sys, time
from whoosh import index
ix = index.open_dir(sys.argv[1], indexname="ged")
writer = ix.writer()
writer.add_document(key="mail:999999", kind="mail", object_id=999999, title="fantôme",
                    body="lotissement fantôme")
print("locked", flush=True)
time.sleep(300)
""",
    "tantivy": """
import sys, time, tantivy
ix = tantivy.Index.open(sys.argv[1])
writer = ix.writer(heap_size=20_000_000, num_threads=1)
doc = tantivy.Document()
doc.add_text("key", "mail:999999")
doc.add_text("body", "lotissement fantom")
doc.add_text("access", "mopen")
writer.add_document(doc)
print("locked", flush=True)
time.sleep(300)
""",
}


@pytest.fixture
def holder(container: Container, search_backend: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the index's write lock, with a document not yet committed."""
    index = container.search.index
    index.lock_timeout = 0.5  # type: ignore[attr-defined]  # both adapters have it
    index.count()  # the index exists before another process opens it
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDERS[search_backend], str(container.settings.index_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_a_live_writer_holding_the_lock_gives_a_clear_message(
    world: World, holder: subprocess.Popen[str]
) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    with pytest.raises(Conflict, match="verrouillé par un autre processus") as refused:
        world.container.search.index_mail(mail)
    assert "ged reindex" in refused.value.message
    # Readers are not blocked by a writer; its uncommitted document is not seen.
    assert world.find(world.auditor, "lotissement") == []
    assert world.container.search.index.count() == 0


def test_a_writer_killed_while_holding_the_lock_leaves_it_free(
    world: World, container: Container, holder: subprocess.Popen[str], search_backend: str
) -> None:
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    lock_file = container.settings.index_dir / LOCK_FILES[search_backend]
    assert lock_file.exists()  # left behind, but no longer locked

    mail = world.register("Lotissement Agdal", "lotissement zone nord", world.sau)

    assert world.find(world.agent_sau, "lotissement") == [mail]
    assert world.find(world.auditor, "fantôme") == []  # the killed writer's document is lost
    assert container.search.index.count() == 1
    assert container.search.reindex() == 1


def test_reindex_recovers_after_a_killed_writer(
    world: World, container: Container, holder: subprocess.Popen[str]
) -> None:
    holder.kill()
    holder.wait(timeout=30)

    assert container.search.reindex() == 0
    mail = world.register("Voirie", "éclairage public", world.sau)
    assert container.search.reindex() == 1
    assert world.find(world.agent_sau, "eclairage") == [mail]


def _older_whoosh_index(directory: Path) -> None:
    """An earlier schema: the permission filter's field is missing."""
    whoosh_index.create_in(
        str(directory),
        whoosh_fields.Schema(
            key=whoosh_fields.ID(stored=True, unique=True), body=whoosh_fields.TEXT()
        ),
        indexname="ged",
    )


def _older_tantivy_index(directory: Path) -> None:
    """An earlier layout of the fields, marked with its schema version."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", tokenizer_name="default")
    tantivy.Index(builder.build(), path=str(directory))
    (directory / "ged-schema").write_text("0\n", encoding="utf-8")


OLDER_INDEXES = {
    "whoosh": (_older_whoosh_index, Conflict),
    "tantivy": (_older_tantivy_index, StorageError),
}


def test_an_index_written_by_an_older_version_asks_for_a_reindex(
    world: World, container: Container, search_backend: str
) -> None:
    mail = world.register("Voirie", "éclairage public", world.sau)
    container.search.index.close()
    shutil.rmtree(container.settings.index_dir)
    container.settings.index_dir.mkdir(parents=True)
    write_older, refusal = OLDER_INDEXES[search_backend]
    write_older(container.settings.index_dir)

    with pytest.raises(refusal, match="ged reindex"):
        container.search.search(world.agent_sau, SearchQuery(text="eclairage"))

    assert container.search.reindex() == 1
    assert world.find(world.agent_sau, "eclairage") == [mail]


# --- switching engines --------------------------------------------------------------------


def test_reindex_into_the_other_engine_leaves_the_running_one_alone(
    world: World, container: Container, search_backend: str
) -> None:
    from ged.bootstrap import make_search_index

    mail = world.register("Voirie", "éclairage public", world.sau)
    other = "tantivy" if search_backend == "whoosh" else "whoosh"
    settings = replace(container.settings, search=SearchSettings(backend=other))
    target = make_search_index(settings)

    def edit_during_the_build(done: int) -> None:
        """An edit saved after the mail was read: the build reads it again at its end."""
        with container.writer() as uow:
            row = uow.session.get(Mail, mail)
            assert row is not None
            row.subject = "Parcellaire"
            row.updated_at = dt.datetime.now(dt.UTC)
            uow.commit()

    try:
        assert container.search.reindex(edit_during_the_build, index=target) == 1
        assert settings.index_dir != container.settings.index_dir
        found = target.search(SearchQuery(text="parcellaire"), Visibility(everything=True))
        assert [(h.object_id, h.title) for h in found.hits] == [(mail, "Parcellaire")]
        assert target.count() == 1
    finally:
        target.close()
    # The running engine was not told: its sweep still sees the edit as pending.
    assert container.search.stale() == ([mail], [])
    assert world.find(world.agent_sau, "eclairage") == [mail]


def test_the_worker_builds_the_index_of_a_newly_chosen_engine_as_it_starts(
    world: World,
    container: Container,
    search_backend: str,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Switching engines without ``ged reindex``: the new engine's folder does not exist yet.
    The worker fills it from the database as it starts instead of answering nothing."""
    mails = [world.register(f"Voirie {n}", "éclairage public", world.sau) for n in range(2)]
    other = "tantivy" if search_backend == "whoosh" else "whoosh"
    switched = replace(settings, search=SearchSettings(backend=other))
    restarted = bootstrap.build(switched, engine=make_engine(settings.effective_database_url))
    try:
        assert not switched.index_dir.exists()
        searched = restarted.search.search(world.agent_sau, SearchQuery(text="eclairage"))
        assert searched.total == 0  # what users saw until someone ran `ged reindex`
        with caplog.at_level(logging.WARNING, logger="ged.services.search"):
            Worker(restarted.huey, threading.Event(), 0.1, 1.0, 1.15).initialize()
        assert "rebuilding it" in caplog.text
        assert "search index rebuilt: 2 items" in caplog.text
        found = restarted.search.search(world.agent_sau, SearchQuery(text="eclairage"))
        assert sorted(h.object_id for h in found.hits) == mails
        assert restarted.search.stale() == ([], [])
        caplog.clear()
        # Started again, or the sweep: the index is full, nothing is rebuilt.
        Worker(restarted.huey, threading.Event(), 0.1, 1.0, 1.15).initialize()
        assert restarted.search.rebuild_if_empty() is None
        assert "rebuilding" not in caplog.text
    finally:
        restarted.dispose()


def test_the_sweep_rebuilds_an_index_folder_lost_while_running(
    world: World, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)
    assert container.search.index.count() == 1
    shutil.rmtree(container.settings.index_dir)  # under the running process, index still open
    with caplog.at_level(logging.WARNING, logger="ged.services.search"):
        assert container.jobs.run_now("sweep_index") == 0
    assert "rebuilding it" in caplog.text
    assert world.find(world.agent_sau, "lotissement") == [mail]
    assert container.search.index.count() == 1


def test_an_empty_database_leaves_the_empty_index_alone(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ged.services.search"):
        assert container.search.rebuild_if_empty() is None
        assert container.jobs.run_now("sweep_index") == 0
    assert caplog.text == ""
    assert container.search.index.count() == 0


def _pdf() -> IncomingFile:
    return IncomingFile(io.BytesIO(b"%PDF-1.4 document"), "lettre.pdf", "application/pdf", 1)


def plain_marks(highlight: str) -> str:
    """Whoosh adds classes to its <mark> elements; the words inside are what matter."""
    return re.sub(r"<mark[^>]*>", "<mark>", highlight)


# --- the command line; tantivy's own messages ---------------------------------------------


def test_ged_reindex_backend_builds_the_other_engines_index(ged: GedCommand) -> None:
    """tantivy is configured (the default); ``--backend whoosh`` builds Whoosh's index."""
    ged.ok("init")
    built = ged.container()
    build = Builders(built)
    registrar = build.actor(build.user("bo", role=Role.REGISTRAR))
    unit = build.unit("SAU")
    type_id = built.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
    registered = built.registry.register(
        registrar,
        MailInput(
            "incoming",
            "Éclairage public de la place",
            correspondent_name="Commune urbaine de Rabat",
            mail_type_id=type_id,
            unit_ids=(unit,),
        ),
        [Upload(io.BytesIO(b"%PDF-1.4 x"), "scan.pdf")],
    )
    assert built.settings.search.backend == "tantivy"
    built.search.reindex()  # no worker in this test: index the configured engine

    result = ged.ok("reindex", "--backend", "whoosh")

    assert "1 items indexed" in result.output
    assert "GED_SEARCH_BACKEND=whoosh" in result.output
    assert (ged.instance / "index" / "whoosh").is_dir()
    index = WhooshSearchIndex(ged.instance / "index" / "whoosh")
    try:
        found = index.search(SearchQuery(text="eclairage"), Visibility(everything=True))
        assert [h.object_id for h in found.hits] == [registered.id]
    finally:
        index.close()
    refused = ged("reindex", "--backend", "elastic")
    assert refused.exit_code == 2
    assert "elastic" in refused.output


def test_a_corrupt_tantivy_index_says_to_run_reindex(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    directory = tmp_path_factory.mktemp("index")
    index = TantivySearchIndex(directory)
    index.upsert([IndexedItem("mail:1", "mail", 1, "voirie", dt.date(2026, 1, 1))])
    index.close()
    (directory / "meta.json").write_bytes(b"garbage")
    with pytest.raises(GedError, match="ged reindex") as refused:
        TantivySearchIndex(directory).count()
    assert "illisible" in refused.value.message
    index.recreate()
    assert index.count() == 0
