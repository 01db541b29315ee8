"""Fixtures for driving the `ged` command on a real instance folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ged import bootstrap
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings, load_settings
from tests.conftest import FAST_HASHER


class GedCommand:
    """Runs `ged …` in-process with ``GED_INSTANCE`` and ``GED_DATABASE_URL`` set, as a user would.

    Every container the command builds (through ``create_app``) hashes passwords with cheap
    Argon2id parameters and is disposed at teardown; ``container()`` gives the test its own
    view of the same instance.
    """

    def __init__(self, instance: Path, database_url: str) -> None:
        self.instance = instance
        self.database_url = database_url
        self.containers: list[Container] = []

    @property
    def env(self) -> dict[str, str | None]:
        return {
            "GED_INSTANCE": str(self.instance),
            "GED_DATABASE_URL": self.database_url,
            "GED_SECRET_KEY": None,
            "GED_REDIS_URL": None,
        }

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        # Imported here: a broken web/ then fails the CLI tests only, not every integration test.
        from web.cli import cli

        return CliRunner().invoke(cli, list(args), input=input, env={**self.env, **(env or {})})

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed; show its output if it does not."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def settings(self) -> Settings:
        return load_settings(
            {"instance": self.instance, "database_url": self.database_url, "redis_url": ""},
            environ={},
        ).with_secret_from_instance()

    def container(self) -> Container:
        """A container on the instance (disposed at teardown with the command's own)."""
        return bootstrap.build(self.settings(), passwords=Passwords(FAST_HASHER))


@pytest.fixture
def ged(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[GedCommand]:
    command = GedCommand(tmp_path / "instance", database_url)
    real_build = bootstrap.build

    def tracking_build(*args: Any, **kwargs: Any) -> Container:
        # The same Argon2id, at a test's cost: `ged demo` hashes ten passwords.
        kwargs.setdefault("passwords", Passwords(FAST_HASHER))
        built = real_build(*args, **kwargs)
        command.containers.append(built)
        return built

    monkeypatch.setattr(bootstrap, "build", tracking_build)
    # FlaskGroup sets this for the whole process; keep it from leaking into other tests.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    yield command
    for built in command.containers:
        built.dispose()
