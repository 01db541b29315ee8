"""The [notifications] settings: read from the file and GED_* variables, checked at start."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ged import bootstrap
from ged.config import Settings, load_settings
from ged.domain.errors import ConfigurationError


def test_digest_settings_come_from_the_defaults_and_the_environment() -> None:
    defaults = load_settings(environ={}).notifications
    assert (defaults.digest, defaults.digest_hour, defaults.digest_due_working_days) == (
        True,
        7,
        2,
    )

    chosen = load_settings(
        environ={"GED_NOTIFICATIONS_DIGEST_HOUR": "9", "GED_NOTIFICATIONS_DIGEST": "false"}
    ).notifications

    assert (chosen.digest_hour, chosen.digest) == (9, False)


@pytest.mark.parametrize(
    ("name", "value"), [("digest_hour", 24), ("sweep_minutes", 0), ("digest_due_working_days", -1)]
)
def test_a_container_refuses_impossible_digest_settings(
    settings: Settings, name: str, value: int
) -> None:
    settings.instance.mkdir(parents=True, exist_ok=True)
    wrong = replace(settings, notifications=replace(settings.notifications, **{name: value}))

    with pytest.raises(ConfigurationError, match=name):
        bootstrap.build(wrong)
