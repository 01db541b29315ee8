"""Alembic environment: the engine comes from ged (``ged init``, tests) or from GED_* settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from ged.adapters.db import make_engine
from ged.adapters.orm import Base
from ged.config import load_settings

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    engine = make_engine(load_settings().effective_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
