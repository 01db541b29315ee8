"""Settings: config/default.toml, then GED_* variables; the secret key guard."""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from ged.config import (
    DEFAULT_CONFIG,
    MIN_SECRET_KEY_LENGTH,
    SECRET_KEY_FILE,
    Settings,
    check_secret_key,
    load_settings,
)
from ged.domain.errors import ConfigurationError


def test_without_environment_settings_are_the_values_of_default_toml() -> None:
    with DEFAULT_CONFIG.open("rb") as fh:
        raw = tomllib.load(fh)

    settings = load_settings(environ={})

    assert settings.instance == Path(raw["instance"])
    assert settings.database_url == raw["database_url"] == ""
    assert settings.secret_key == ""
    assert settings.timezone == raw["timezone"]
    assert settings.server.port == raw["server"]["port"]
    assert settings.security.cookie_secure is raw["security"]["cookie_secure"] is True
    assert settings.security.session_idle_minutes == raw["security"]["session_idle_minutes"]
    assert settings.security.login_limit_per_username == raw["security"]["login_limit_per_username"]
    assert settings.store.max_file_mb == raw["store"]["max_file_mb"]


def test_dataclass_defaults_agree_with_default_toml() -> None:
    # Code that builds Settings() directly must not get other values than an installation.
    assert load_settings(environ={}) == Settings()


def test_top_level_environment_variable_overrides_default() -> None:
    settings = load_settings(
        environ={"GED_DATABASE_URL": "postgresql+psycopg://ged@db/ged", "GED_INSTANCE": "/srv/ged"}
    )

    assert settings.database_url == "postgresql+psycopg://ged@db/ged"
    assert settings.instance == Path("/srv/ged")
    assert settings.effective_database_url == "postgresql+psycopg://ged@db/ged"


def test_nested_environment_variable_overrides_its_section_as_an_int() -> None:
    settings = load_settings(environ={"GED_SECURITY_SESSION_IDLE_MINUTES": "5"})

    assert settings.security.session_idle_minutes == 5
    assert isinstance(settings.security.session_idle_minutes, int)
    # Neighbours keep their defaults.
    assert settings.security.session_absolute_hours == 12


@pytest.mark.parametrize(
    ("text", "expected"),
    [("false", False), ("0", False), ("No", False), ("off", False), ("TRUE", True), ("1", True)],
)
def test_boolean_environment_values_are_coerced(text: str, expected: bool) -> None:
    settings = load_settings(environ={"GED_SECURITY_COOKIE_SECURE": text})

    assert settings.security.cookie_secure is expected


def test_string_setting_is_kept_as_text() -> None:
    settings = load_settings(environ={"GED_SECURITY_LOGIN_LIMIT_PER_ADDRESS": "3/minute"})

    assert settings.security.login_limit_per_address == "3/minute"


def test_unrelated_environment_variables_are_ignored() -> None:
    settings = load_settings(environ={"GED_TEST_DATABASE_URL": "x", "PATH": "/bin"})

    assert settings == load_settings(environ={})


def test_non_numeric_int_setting_is_refused_with_the_setting_name() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ={"GED_SERVER_PORT": "eighty"})

    assert "server.port" in excinfo.value.message
    assert "whole number" in excinfo.value.message
    assert "'eighty'" in excinfo.value.message


def test_unclear_boolean_is_refused_with_the_setting_name() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(environ={"GED_SECURITY_COOKIE_SECURE": "maybe"})

    assert "security.cookie_secure" in excinfo.value.message
    assert "true or false" in excinfo.value.message


def test_explicit_override_wins_over_environment() -> None:
    settings = load_settings(
        {"security.session_idle_minutes": 7},
        environ={"GED_SECURITY_SESSION_IDLE_MINUTES": "5"},
    )

    assert settings.security.session_idle_minutes == 7


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"Unknown setting: security\.idle"):
        load_settings({"security.idle": 5}, environ={})


def test_unknown_key_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ged.toml"
    config.write_text('instance = "x"\ncolour = "blue"\n', encoding="utf-8")

    with pytest.raises(ConfigurationError, match="colour"):
        load_settings(environ={}, config_file=config)


def test_sqlite_in_the_instance_folder_when_no_database_url(tmp_path: Path) -> None:
    settings = load_settings({"instance": tmp_path / "inst"}, environ={})

    url = settings.effective_database_url
    assert url.startswith("sqlite:///")
    assert url.endswith(str((tmp_path / "inst" / "ged.sqlite3").resolve()))


@pytest.mark.parametrize("key", ["", "   ", "changeme", "CHANGEME", "dev", "secret", "development"])
def test_empty_or_well_known_secret_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match="No secret key"):
        check_secret_key(key)


def test_short_secret_key_is_refused_and_its_length_given() -> None:
    key = secrets.token_hex(10)
    assert len(key) == 20

    with pytest.raises(ConfigurationError) as excinfo:
        check_secret_key(key)

    assert "too short (20 characters" in excinfo.value.message
    assert str(MIN_SECRET_KEY_LENGTH) in excinfo.value.message


def test_secret_key_one_below_the_minimum_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        check_secret_key("k" * (MIN_SECRET_KEY_LENGTH - 1))


def test_long_random_secret_key_is_accepted() -> None:
    key = secrets.token_urlsafe(36)
    assert len(key) == 48

    check_secret_key(key)  # does not raise


def test_secret_key_is_read_from_the_instance_file(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("  key-from-the-instance-folder\n", encoding="utf-8")
    settings = load_settings({"instance": tmp_path}, environ={})

    loaded = settings.with_secret_from_instance()

    assert loaded.secret_key == "key-from-the-instance-folder"
    assert settings.secret_key == ""  # settings are frozen: a new object is returned


def test_explicit_secret_key_wins_over_the_instance_file(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("from-the-file", encoding="utf-8")
    settings = load_settings({"instance": tmp_path}, environ={"GED_SECRET_KEY": "from-the-env"})

    assert settings.with_secret_from_instance().secret_key == "from-the-env"


def test_missing_instance_file_leaves_the_secret_key_empty(tmp_path: Path) -> None:
    settings = replace(Settings(), instance=tmp_path / "absent")

    assert settings.with_secret_from_instance().secret_key == ""
