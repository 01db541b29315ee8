from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from ged import migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import Base
from ged.config import Settings


def test_upgrade_then_downgrade_then_upgrade_again(settings: Settings) -> None:
    settings.instance.mkdir(parents=True)
    engine = make_engine(settings.effective_database_url)
    try:
        migrations.upgrade(engine)
        assert migrations.current_revision(engine) == migrations.head_revision(engine)
        assert {"users", "unit", "version", "audit_event"} <= set(inspect(engine).get_table_names())
        migrations.downgrade(engine, "base")
        assert migrations.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(engine)
        assert migrations.current_revision(engine) == migrations.head_revision(engine)
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(settings: Settings) -> None:
    settings.instance.mkdir(parents=True)
    engine = make_engine(settings.effective_database_url)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
