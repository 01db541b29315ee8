"""Throwaway ged instances for the benchmarks: settings in a temporary folder, a fresh schema.

Imported by the benchmark scripts (which put the checkout's root on `sys.path`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from ged.config import Settings, load_settings


def settings_for(folder: Path, database_url: str) -> Settings:
    return load_settings(
        {
            "instance": folder,
            "database_url": database_url,
            "secret_key": secrets.token_urlsafe(48),  # throwaway instance
            "redis_url": "",
        },
        environ={},
    )


@contextmanager
def postgres_schema(server: str) -> Iterator[str]:
    """A fresh schema on the server, dropped afterwards; raises OperationalError if unreachable."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server else "?"
        try:
            yield f"{server}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
