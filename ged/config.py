"""Settings: ``config/default.toml``, then ``GED_*`` environment variables, then explicit overrides.

Every value has one name: the TOML key path joined with ``_`` and upper-cased after ``GED_``
(``[security] cookie_secure`` is ``GED_SECURITY_COOKIE_SECURE``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ged.domain.errors import ConfigurationError
from ocr import OcrSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.toml"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
MIN_SECRET_KEY_LENGTH = 32
# Values that have appeared in tutorials and default configs: never accept them as a key.
KNOWN_DEFAULT_KEYS = frozenset(
    {"", "dev", "secret", "changeme", "change-me", "secret-key", "default", "development"}
)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    threads: int = 8


@dataclass(frozen=True)
class SecuritySettings:
    cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_limit_per_address: str = "20/minute;100/hour"
    login_limit_per_username: str = "5/minute;30/hour"
    trusted_proxies: int = 0
    password_min_length: int = 10


@dataclass(frozen=True)
class StoreSettings:
    max_file_mb: int = 100


@dataclass(frozen=True)
class RegistrySettings:
    chrono_format: str = "{prefix}-{year}-{number:06d}"
    max_files: int = 20


SEARCH_BACKENDS = ("whoosh", "tantivy")


@dataclass(frozen=True)
class SearchSettings:
    backend: str = "tantivy"

    def __post_init__(self) -> None:
        backend = self.backend.strip().lower()
        if backend not in SEARCH_BACKENDS:
            raise ValueError(
                f"search.backend must be one of {', '.join(SEARCH_BACKENDS)}, not {self.backend!r}"
            )
        object.__setattr__(self, "backend", backend)


@dataclass(frozen=True)
class MailSettings:
    """The SMTP relay notifications go through; an empty host keeps them in the outbox."""

    host: str = ""
    port: int = 25
    sender: str = "ged@localhost"
    starttls: bool = True
    username: str = ""
    password: str = ""
    timeout_seconds: int = 10
    max_attempts: int = 6
    refuse_private_recipients: bool = True


@dataclass(frozen=True)
class CircuitSettings:
    reminder_working_days: int = 1
    sweep_minutes: int = 5
    notify_new_tasks: bool = True


@dataclass(frozen=True)
class NotificationSettings:
    """The daily digest: overdue tasks and tasks due soon, e-mailed to each person once a day."""

    digest: bool = True
    digest_hour: int = 7
    digest_due_working_days: int = 2
    sweep_minutes: int = 15


@dataclass(frozen=True)
class CaptureSettings:
    sweep_minutes: int = 5
    stale_minutes: int = 60
    # Scanner folder watched by `ged serve` (empty: none; `ged watch DIR` works regardless).
    watch_dir: str = ""
    # A file is taken once its size and modification time have not changed for this long.
    stable_seconds: int = 10
    poll_seconds: int = 2
    # Resolution at which pages are rendered to look for cover and separator sheets.
    sheet_dpi: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.stable_seconds <= 3600:
            raise ValueError("capture.stable_seconds must be between 0 and 3600")
        if not 1 <= self.poll_seconds <= 600:
            raise ValueError("capture.poll_seconds must be between 1 and 600")
        if not 50 <= self.sheet_dpi <= 300:
            raise ValueError("capture.sheet_dpi must be between 50 and 300")


@dataclass(frozen=True)
class Settings:
    instance: Path = Path("instance")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    default_locale: str = "fr"
    timezone: str = "Africa/Casablanca"
    server: ServerSettings = field(default_factory=ServerSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    circuits: CircuitSettings = field(default_factory=CircuitSettings)
    ocr: OcrSettings = field(default_factory=OcrSettings)
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @property
    def store_dir(self) -> Path:
        return self.instance / "store"

    @property
    def index_dir(self) -> Path:
        return self.instance / "index" / self.search.backend

    @property
    def secret_key_path(self) -> Path:
        return self.instance / SECRET_KEY_FILE

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance / 'ged.sqlite3').resolve()}"

    def with_secret_from_instance(self) -> Settings:
        """Fill ``secret_key`` from the instance folder unless it was given explicitly."""
        if self.secret_key or not self.secret_key_path.is_file():
            return self
        return replace(self, secret_key=self.secret_key_path.read_text(encoding="utf-8").strip())


def check_secret_key(key: str) -> None:
    """Refuse keys that would let anyone forge sessions or job payloads."""
    if key.strip().lower() in KNOWN_DEFAULT_KEYS:
        raise ConfigurationError(
            "No secret key: run `ged init` to create the instance folder, or set GED_SECRET_KEY."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"The secret key is too short ({len(key)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH} are required). Run `ged init --new-secret`."
        )


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path = DEFAULT_CONFIG,
) -> Settings:
    """Read the defaults file, apply ``GED_*`` variables, then ``overrides`` (flat, dotted keys)."""
    environ = os.environ if environ is None else environ
    with config_file.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    flat = _flatten(raw)
    for key in list(flat):
        env_name = "GED_" + key.replace(".", "_").upper()
        if env_name in environ:
            flat[key] = _coerce(key, flat[key], environ[env_name])
    for key, value in (overrides or {}).items():
        if key not in flat:
            raise ConfigurationError(f"Unknown setting: {key}")
        flat[key] = value
    return _build(flat)


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _coerce(key: str, default: Any, text: str) -> Any:
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(f"{key} expects true or false, not {text!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigurationError(f"{key} expects a whole number, not {text!r}") from None
    return text


def _build(flat: Mapping[str, Any]) -> Settings:
    sections: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in flat.items():
        section, _, name = key.rpartition(".")
        if section:
            sections.setdefault(section, {})[name] = value
        else:
            top[name] = value
    known_top = {f.name for f in fields(Settings)}
    unknown = set(top) - known_top
    if unknown:
        raise ConfigurationError(f"Unknown setting(s): {', '.join(sorted(unknown))}")
    try:
        return Settings(
            **{**top, "instance": Path(str(top.get("instance", "instance")))},
            server=ServerSettings(**sections.get("server", {})),
            security=SecuritySettings(**sections.get("security", {})),
            store=StoreSettings(**sections.get("store", {})),
            registry=RegistrySettings(**sections.get("registry", {})),
            search=SearchSettings(**sections.get("search", {})),
            mail=MailSettings(**sections.get("mail", {})),
            circuits=CircuitSettings(**sections.get("circuits", {})),
            ocr=OcrSettings.from_mapping(sections.get("ocr", {})),
            capture=CaptureSettings(**sections.get("capture", {})),
            notifications=NotificationSettings(**sections.get("notifications", {})),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Invalid configuration: {exc}") from None
