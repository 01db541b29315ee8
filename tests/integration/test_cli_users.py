"""`ged user` and `ged token` on an initialised instance."""

from __future__ import annotations

import pytest
from click.testing import Result
from sqlalchemy import func, select

from ged.adapters.orm import ApiToken, AuditEvent, Unit, User
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.integration.conftest import GedCommand

PASSWORD = "un mot de passe solide"


@pytest.fixture
def instance(ged: GedCommand) -> Container:
    """`ged init` done, one unit SAU, and a container on the instance."""
    ged.ok("init")
    container = ged.container()
    container.admin.create_unit(SYSTEM, UnitData("SAU", "Service des autorisations"))
    return container


def user_named(container: Container, username: str) -> User | None:
    with container.reader() as uow:
        return uow.session.execute(
            select(User).where(User.username == username)
        ).scalar_one_or_none()


def count(container: Container, model: type[User] | type[Unit] | type[ApiToken]) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def count_events(container: Container, action: AuditAction) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action.value)
        ).scalar_one()


def add_user(ged: GedCommand, username: str, *options: str, password: str = PASSWORD) -> Result:
    """`ged user add USERNAME OPTIONS --password-stdin`, the password typed on standard input."""
    return ged("user", "add", username, *options, "--password-stdin", input=password + "\n")


def add_agent(ged: GedCommand, username: str) -> None:
    result = add_user(ged, username, "--name", username.title(), "--role", "agent", "--unit", "SAU")
    assert result.exit_code == 0, result.output


# --- ged user add ------------------------------------------------------------------------------


def test_user_add_creates_the_user_in_the_unit_given_by_code(
    ged: GedCommand, instance: Container
) -> None:
    result = add_user(
        ged,
        "Salma",
        "--name",
        "Salma Idrissi",
        "--role",
        "agent",
        "--unit",
        "sau",
        "--locale",
        "ar",
    )

    assert result.exit_code == 0, result.output
    assert "User salma created." in result.output
    user = user_named(instance, "salma")
    assert user is not None
    assert user.unit is not None
    assert user.unit.code == "SAU"
    assert (user.full_name, user.role, user.locale, user.active) == (
        "Salma Idrissi",
        "agent",
        "ar",
        True,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert instance.accounts.log_in("salma", PASSWORD).user_id == user.id
    assert count_events(instance, AuditAction.USER_CREATED) == 1


def test_user_add_refuses_an_unknown_unit(ged: GedCommand, instance: Container) -> None:
    result = add_user(ged, "salma", "--name", "Salma", "--role", "agent", "--unit", "NOPE")

    assert result.exit_code != 0
    assert "Unknown unit: NOPE" in result.output
    assert "Traceback" not in result.output
    assert user_named(instance, "salma") is None


def test_user_add_refuses_a_duplicate_username(ged: GedCommand, instance: Container) -> None:
    assert add_user(ged, "admin2", "--name", "Admin", "--role", "admin").exit_code == 0

    result = add_user(
        ged, "ADMIN2", "--name", "Autre", "--role", "auditor", password="another long password"
    )

    assert result.exit_code != 0
    assert "L'identifiant admin2 est déjà pris." in result.output
    assert "Traceback" not in result.output
    user = user_named(instance, "admin2")
    assert user is not None
    assert user.full_name == "Admin"
    assert count(instance, User) == 1


def test_user_add_refuses_a_short_password(ged: GedCommand, instance: Container) -> None:
    result = add_user(ged, "bob", "--name", "Bob", "--role", "auditor", password="short")

    assert result.exit_code != 0
    assert "au moins 10 caractères" in result.output
    assert user_named(instance, "bob") is None


def test_user_add_refuses_an_agent_without_unit(ged: GedCommand, instance: Container) -> None:
    result = add_user(ged, "bob", "--name", "Bob", "--role", "agent")

    assert result.exit_code != 0
    assert "doit appartenir à une entité" in result.output
    assert user_named(instance, "bob") is None


def test_user_add_refuses_an_unknown_role(ged: GedCommand, instance: Container) -> None:
    result = add_user(ged, "bob", "--name", "Bob", "--role", "superuser")

    assert result.exit_code == 2  # usage error, from click
    assert "superuser" in result.output
    assert user_named(instance, "bob") is None


# --- ged user passwd ---------------------------------------------------------------------------


def test_user_passwd_sets_the_password_and_ends_that_users_sessions(
    ged: GedCommand, instance: Container
) -> None:
    add_agent(ged, "salma")
    add_agent(ged, "omar")
    accounts = instance.accounts
    first = accounts.log_in("salma", PASSWORD).session_token
    second = accounts.log_in("salma", PASSWORD).session_token
    others = accounts.log_in("omar", PASSWORD).session_token

    result = ged.ok("user", "passwd", "salma", "--password-stdin", input="tout nouveau secret\n")

    assert "sessions were ended" in result.output
    assert accounts.check_session(first).reason == "password reset"
    assert accounts.check_session(second).reason == "password reset"
    assert accounts.check_session(others).user is not None
    assert accounts.log_in("salma", "tout nouveau secret").user_id is not None
    assert count_events(instance, AuditAction.PASSWORD_RESET) == 1


def test_user_passwd_of_an_unknown_user_fails_clearly(ged: GedCommand, instance: Container) -> None:
    result = ged("user", "passwd", "ghost", "--password-stdin", input=PASSWORD + "\n")

    assert result.exit_code != 0
    assert "Utilisateur inconnu : ghost" in result.output
    assert "Traceback" not in result.output


def test_user_passwd_refuses_a_short_password_and_keeps_sessions(
    ged: GedCommand, instance: Container
) -> None:
    add_agent(ged, "salma")
    token = instance.accounts.log_in("salma", PASSWORD).session_token

    result = ged("user", "passwd", "salma", "--password-stdin", input="short\n")

    assert result.exit_code != 0
    assert "au moins 10 caractères" in result.output
    assert instance.accounts.check_session(token).user is not None


# --- ged token create --------------------------------------------------------------------------


def test_token_create_prints_a_token_that_works(ged: GedCommand, instance: Container) -> None:
    assert add_user(ged, "scanner", "--name", "Scanner", "--role", "registrar").exit_code == 0

    result = ged.ok("token", "create", "scanner", "--name", "hot folder")

    token = result.output.strip()
    assert token.startswith("ged_")
    user = instance.accounts.user_for_token(token)
    assert user.username == "scanner"


def test_token_create_for_an_unknown_user_fails_clearly(
    ged: GedCommand, instance: Container
) -> None:
    result = ged("token", "create", "ghost")

    assert result.exit_code != 0
    assert "Utilisateur inconnu : ghost" in result.output
    assert "Traceback" not in result.output
    assert count(instance, ApiToken) == 0
