"""Content-addressed file store: bytes live under their sha256, written once, never overwritten.

Layout: ``<root>/objects/ab/cd/abcd…`` and ``<root>/tmp/`` for files being written. A file reaches
its final name only complete and fsynced (temp file, fsync, link, fsync of the directory), so a
crash leaves at worst a temp file, never a truncated object.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ged.domain.errors import StorageError, ValidationError

CHUNK = 1024 * 1024
SHA256_HEX_LENGTH = 64


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    created: bool  # False when the same content was already stored


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"

    def ensure(self) -> None:
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != SHA256_HEX_LENGTH or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, source: BinaryIO, max_bytes: int | None = None) -> StoredFile:
        """Copy ``source`` into the store; refuse it past ``max_bytes`` without keeping anything."""
        self.ensure()
        digest = hashlib.sha256()
        size = 0
        tmp_path = self.tmp / f"{secrets.token_hex(16)}.part"
        try:
            with tmp_path.open("xb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValidationError(
                            f"Le fichier dépasse la taille maximale ({max_bytes // CHUNK} Mo)."
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            final = self.path_for(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                # link() fails if the name exists, unlike rename(): an object is never replaced.
                os.link(tmp_path, final)
                created = True
            except FileExistsError:
                created = False
            else:
                _fsync_dir(final.parent)
            return StoredFile(sha256=sha256, size=size, created=created)
        except OSError as exc:
            raise StorageError(f"Impossible d'enregistrer le fichier : {exc.strerror}") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp_path.unlink()

    def put_bytes(self, data: bytes, max_bytes: int | None = None) -> StoredFile:
        return self.put(io.BytesIO(data), max_bytes=max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path_for(sha256).open("rb")
        except FileNotFoundError:
            raise StorageError(f"Fichier absent du stockage : {sha256}") from None

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """Every file under ``objects/``, misplaced ones included, so that a check sees them."""
        if not self.objects.is_dir():
            return
        for path in sorted(self.objects.rglob("*")):
            if path.is_file():
                yield path.name, path

    def iter_temp_files(self) -> Iterator[Path]:
        if self.tmp.is_dir():
            yield from sorted(p for p in self.tmp.iterdir() if p.is_file())


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
