"""`ged init` and the refusal to start without a proper secret key."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from ged import migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import AuditEvent
from ged.config import MIN_SECRET_KEY_LENGTH
from ged.domain.errors import ConfigurationError
from ged.domain.model import AuditAction
from tests.integration.conftest import GedCommand


def mode_of(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def count_events(ged: GedCommand, action: AuditAction | None = None) -> int:
    with ged.container().reader() as uow:
        query = select(func.count()).select_from(AuditEvent)
        if action is not None:
            query = query.where(AuditEvent.action == action.value)
        return uow.session.execute(query).scalar_one()


def test_init_creates_instance_key_store_and_schema(ged: GedCommand) -> None:
    assert not ged.instance.exists()

    result = ged.ok("init")

    assert "Instance ready" in result.output
    key_file = ged.instance / "secret_key"
    assert key_file.is_file()
    assert mode_of(key_file) == 0o600
    assert len(key_file.read_text(encoding="utf-8").strip()) >= MIN_SECRET_KEY_LENGTH
    assert (ged.instance / "store" / "objects").is_dir()
    assert (ged.instance / "store" / "tmp").is_dir()
    engine = make_engine(ged.settings().effective_database_url)
    try:
        assert migrations.current_revision(engine) == migrations.head_revision(engine)
    finally:
        engine.dispose()


def test_init_records_one_instance_initialised_event(ged: GedCommand) -> None:
    ged.ok("init")

    assert count_events(ged, AuditAction.INSTANCE_INITIALISED) == 1
    assert count_events(ged) == 1


def test_second_init_keeps_the_key_and_records_no_second_event(ged: GedCommand) -> None:
    ged.ok("init")
    key = (ged.instance / "secret_key").read_text(encoding="utf-8")

    ged.ok("init")

    assert (ged.instance / "secret_key").read_text(encoding="utf-8") == key
    assert count_events(ged, AuditAction.INSTANCE_INITIALISED) == 1


def test_init_with_new_secret_replaces_the_key(ged: GedCommand) -> None:
    ged.ok("init")
    key_file = ged.instance / "secret_key"
    old_key = key_file.read_text(encoding="utf-8")

    ged.ok("init", "--new-secret")

    new_key = key_file.read_text(encoding="utf-8")
    assert new_key != old_key
    assert len(new_key.strip()) >= MIN_SECRET_KEY_LENGTH
    assert mode_of(key_file) == 0o600
    assert count_events(ged, AuditAction.INSTANCE_INITIALISED) == 1


def test_new_secret_is_not_left_readable_by_others(ged: GedCommand) -> None:
    # A key file someone copied in with the default umask (0644) must not keep that mode
    # when `ged init --new-secret` writes a fresh key into it.
    ged.instance.mkdir(parents=True)
    key_file = ged.instance / "secret_key"
    key_file.write_text("k" * 64, encoding="utf-8")
    key_file.chmod(0o644)

    ged.ok("init", "--new-secret")

    assert key_file.read_text(encoding="utf-8").strip() != "k" * 64
    assert mode_of(key_file) == 0o600


def test_app_refuses_to_start_without_a_key_file(
    ged: GedCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web import create_app

    ged.instance.mkdir(parents=True)
    monkeypatch.setenv("GED_INSTANCE", str(ged.instance))
    monkeypatch.setenv("GED_DATABASE_URL", ged.database_url)
    monkeypatch.delenv("GED_SECRET_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="No secret key: run `ged init`"):
        create_app()


def test_app_refuses_to_start_with_a_short_key_even_after_init(
    ged: GedCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    from web import create_app

    ged.ok("init")
    monkeypatch.setenv("GED_INSTANCE", str(ged.instance))
    monkeypatch.setenv("GED_DATABASE_URL", ged.database_url)
    monkeypatch.setenv("GED_SECRET_KEY", "short")

    with pytest.raises(ConfigurationError, match="too short"):
        create_app()


def test_app_starts_after_init(ged: GedCommand, monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app

    ged.ok("init")
    monkeypatch.setenv("GED_INSTANCE", str(ged.instance))
    monkeypatch.setenv("GED_DATABASE_URL", ged.database_url)
    monkeypatch.delenv("GED_SECRET_KEY", raising=False)

    app = create_app()

    assert app.secret_key == (ged.instance / "secret_key").read_text(encoding="utf-8").strip()


def test_check_without_init_explains_and_fails(ged: GedCommand) -> None:
    result = ged("check")

    assert result.exit_code != 0
    assert "No secret key: run `ged init`" in result.output
    assert "Traceback" not in result.output


def test_check_with_a_short_key_explains_and_fails(ged: GedCommand) -> None:
    ged.ok("init")

    result = ged("check", env={"GED_SECRET_KEY": "dev-key-0123"})

    assert result.exit_code != 0
    assert "too short (12 characters" in result.output
