"""Content-addressed file store on a temporary folder."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from ged.adapters.storage import FileStore, file_sha256
from ged.domain.errors import ValidationError


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "store")


def object_files(store: FileStore) -> list[Path]:
    return sorted(p for p in store.objects.rglob("*") if p.is_file())


def temp_files(store: FileStore) -> list[Path]:
    return sorted(p for p in store.tmp.rglob("*") if p.is_file())


def test_put_returns_sha256_and_size_and_keeps_the_bytes(store: FileStore) -> None:
    data = b"Lettre du 12 mars\n" * 1000

    stored = store.put(io.BytesIO(data))

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.created is True
    path = store.path_for(stored.sha256)
    assert path.read_bytes() == data
    assert path.parent.parent.parent == store.objects
    assert path.parent.name == stored.sha256[2:4]
    assert path.parent.parent.name == stored.sha256[:2]
    assert temp_files(store) == []


def test_empty_file_is_stored(store: FileStore) -> None:
    stored = store.put_bytes(b"")

    assert stored.size == 0
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert store.exists(stored.sha256)


def test_file_larger_than_a_chunk_is_hashed_whole(store: FileStore) -> None:
    data = bytes(range(256)) * (5 * 1024 * 1024 // 256 + 7)

    stored = store.put_bytes(data)

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert file_sha256(store.path_for(stored.sha256)) == (stored.sha256, len(data))


def test_same_content_is_stored_once(store: FileStore) -> None:
    first = store.put_bytes(b"same bytes")
    second = store.put_bytes(b"same bytes")

    assert first.created is True
    assert second.created is False
    assert second.sha256 == first.sha256
    assert object_files(store) == [store.path_for(first.sha256)]
    assert temp_files(store) == []


def test_existing_object_is_never_overwritten(store: FileStore) -> None:
    data = b"the real content"
    sha256 = hashlib.sha256(data).hexdigest()
    target = store.path_for(sha256)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"something else that was there first")

    stored = store.put_bytes(data)

    assert stored.created is False
    assert target.read_bytes() == b"something else that was there first"
    assert temp_files(store) == []


def test_file_over_the_limit_is_refused_and_nothing_is_kept(store: FileStore) -> None:
    with pytest.raises(ValidationError, match="taille maximale"):
        store.put_bytes(b"x" * 1001, max_bytes=1000)

    assert object_files(store) == []
    assert temp_files(store) == []


def test_file_over_the_limit_after_several_chunks_leaves_nothing(store: FileStore) -> None:
    limit = 2 * 1024 * 1024
    with pytest.raises(ValidationError):
        store.put_bytes(b"y" * (limit + 1), max_bytes=limit)

    assert object_files(store) == []
    assert temp_files(store) == []


def test_file_exactly_at_the_limit_is_accepted(store: FileStore) -> None:
    stored = store.put_bytes(b"z" * 1000, max_bytes=1000)

    assert stored.size == 1000
    assert store.exists(stored.sha256)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "",
        "abc",
        "0" * 63,
        "0" * 65,
        "A" * 64,  # upper case is not how digests are written
        "g" * 64,
        "../" + "0" * 61,
        "0" * 62 + "/.",
    ],
)
def test_path_for_refuses_names_that_are_not_a_sha256(store: FileStore, name: str) -> None:
    with pytest.raises(ValueError, match="not a sha256"):
        store.path_for(name)


def test_open_returns_the_stored_bytes(store: FileStore) -> None:
    stored = store.put_bytes(b"hello")

    with store.open(stored.sha256) as fh:
        assert fh.read() == b"hello"


def test_iter_objects_names_each_stored_file(store: FileStore) -> None:
    a = store.put_bytes(b"a")
    b = store.put_bytes(b"b")

    assert sorted(name for name, _ in store.iter_objects()) == sorted([a.sha256, b.sha256])


def test_iter_objects_includes_files_outside_the_two_level_layout(store: FileStore) -> None:
    # A file dropped anywhere under objects/ must be seen, or `ged check` would miss an orphan.
    stored = store.put_bytes(b"a")
    stray = store.objects / "stray.bin"
    stray.write_bytes(b"?")
    deep = store.objects / "ab" / "cd" / "ef" / "deeper.bin"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(b"?")

    paths = {path for _, path in store.iter_objects()}

    assert paths == {store.path_for(stored.sha256), stray, deep}
