"""Issue 6, item 5: the index recovers from a writer killed while it held the write lock.

How whoosh3's ``FileStorage`` lock behaves (measured here, whoosh3 3.54 on Linux):
``ix.writer()`` takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``<index>_WRITELOCK`` in the index
folder, retried until ``timeout``. A flock belongs to the open file, so the kernel releases it
when the holding process dies, SIGKILL included: the file stays behind, unlocked, and the next
writer takes it at once: there is no stale lock to clear. The killed writer's uncommitted
documents are lost (its segment files are not in the table of contents and are swept by a
later commit); the index stays readable. Only a *live* holder (a second worker, a hung one)
keeps the lock: a writer then fails after ``lock_timeout`` with a ``Conflict`` that says so
and what to do. (On NFS, flock may not be shared between machines: keep the index local.)
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from whoosh import fields
from whoosh import index as whoosh_index

from ged.adapters.search_whoosh import INDEX_NAME, WhooshSearchIndex
from ged.bootstrap import Container
from ged.domain.errors import Conflict
from ged.domain.search import SearchQuery
from tests.builders import Builders
from tests.integration.search.test_search import World

HOLDER = """
import sys, time
from whoosh import index
ix = index.open_dir(sys.argv[1], indexname=sys.argv[2])
writer = ix.writer()
writer.add_document(key="mail:999999", kind="mail", object_id=999999, title="fantôme",
                    body="lotissement fantôme", access="mopen mu1", unit="1")
print("locked", flush=True)
time.sleep(300)
"""


@pytest.fixture
def world(container: Container, build: Builders) -> World:
    return World(container, build)


@pytest.fixture
def index(container: Container) -> WhooshSearchIndex:
    ix = container.search.index
    assert isinstance(ix, WhooshSearchIndex)
    ix.lock_timeout = 0.5  # not 30 s: the tests wait for a lock they know is held
    ix.count()  # the index exists before another process opens it
    return ix


@pytest.fixture
def holder(container: Container, index: WhooshSearchIndex) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the index's write lock, with a document not yet committed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(container.settings.index_dir), INDEX_NAME],
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
    world: World, index: WhooshSearchIndex, holder: subprocess.Popen[str]
) -> None:
    mail = world.register("Lotissement", "lotissement", world.sau)

    with pytest.raises(Conflict, match="verrouillé par un autre processus") as refused:
        world.container.search.index_mail(mail)

    assert "ged reindex" in refused.value.message
    # Readers are not blocked by a writer: what was committed is still found.
    assert world.find(world.agent_sau, "lotissement") == []  # indexed after the lock was taken
    assert index.count() == 0


def test_a_writer_killed_while_holding_the_lock_leaves_it_free(
    world: World, container: Container, index: WhooshSearchIndex, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    lock_file = container.settings.index_dir / f"{INDEX_NAME}_WRITELOCK"
    assert lock_file.exists()  # left behind, but no longer locked

    mail = world.register("Lotissement Agdal", "lotissement zone nord", world.sau)

    assert world.find(world.agent_sau, "lotissement") == [mail]
    # The killed writer's uncommitted document never became visible.
    assert world.find(world.auditor, "fantôme") == []
    assert index.count() == 1


def test_reindex_recovers_after_a_killed_writer(
    world: World, container: Container, index: WhooshSearchIndex, holder: subprocess.Popen[str]
) -> None:
    holder.kill()
    holder.wait(timeout=30)

    assert container.search.reindex() == 0
    mail = world.register("Voirie", "éclairage public", world.sau)
    assert container.search.reindex() == 1
    results = container.search.search(world.agent_sau, SearchQuery(text="eclairage"))
    assert [h.object_id for h in results.hits] == [mail]


def test_an_index_written_by_an_older_version_asks_for_a_reindex(
    world: World, container: Container
) -> None:
    mail = world.register("Voirie", "éclairage public", world.sau)
    container.search.index.close()
    shutil.rmtree(container.settings.index_dir)
    container.settings.index_dir.mkdir(parents=True)
    # An earlier schema: the permission filter's field is missing.
    whoosh_index.create_in(
        str(container.settings.index_dir),
        fields.Schema(key=fields.ID(stored=True, unique=True), body=fields.TEXT()),
        indexname=INDEX_NAME,
    )

    with pytest.raises(Conflict, match="ged reindex"):
        container.search.search(world.agent_sau, SearchQuery(text="eclairage"))

    assert container.search.reindex() == 1
    assert world.find(world.agent_sau, "eclairage") == [mail]
