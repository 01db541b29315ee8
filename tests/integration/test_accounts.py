"""Accounts: Argon2id passwords, server-side sessions, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from ged.adapters.orm import ApiToken, AuditEvent, AuthSession, User, utcnow
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.domain.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Role
from ged.services.accounts import Accounts
from ged.services.admin import UserData
from tests.builders import SYSTEM, Builders

PASSWORD = Builders.PASSWORD


def stored_hash(container: Container, user_id: int) -> str:
    with container.reader() as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        return user.password_hash


def sessions_of(container: Container, user_id: int) -> list[AuthSession]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)
            ).scalars()
        )


def count_events(container: Container, action: AuditAction) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action.value)
        ).scalar_one()


def disable(container: Container, user_id: int) -> None:
    user = container.admin.get_user(SYSTEM, user_id)
    container.admin.update_user(
        SYSTEM,
        user_id,
        UserData(user.username, user.full_name, user.role, user.unit_id, active=False),
    )


# --- passwords --------------------------------------------------------------------------------


def test_password_is_stored_as_an_argon2id_hash(container: Container, build: Builders) -> None:
    user_id = build.user("alice")

    stored = stored_hash(container, user_id)

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_rehashes_when_the_parameters_changed(container: Container, build: Builders) -> None:
    user_id = build.user("alice")
    old = stored_hash(container, user_id)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    accounts = Accounts(container.writer, container.reader, stronger, container.settings.security)

    accounts.log_in("alice", PASSWORD)

    new = stored_hash(container, user_id)
    assert new != old
    assert new.startswith("$argon2id$")
    assert "m=2048,t=2,p=1" in new
    assert not stronger.needs_rehash(new)
    # The new hash still opens the account.
    assert accounts.log_in("alice", PASSWORD).user_id == user_id


def test_login_keeps_a_hash_whose_parameters_are_current(
    container: Container, build: Builders
) -> None:
    user_id = build.user("alice")
    old = stored_hash(container, user_id)

    container.accounts.log_in("alice", PASSWORD)

    assert stored_hash(container, user_id) == old


def test_wrong_password_does_not_rehash_or_open_a_session(
    container: Container, build: Builders
) -> None:
    user_id = build.user("alice")
    old = stored_hash(container, user_id)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    accounts = Accounts(container.writer, container.reader, stronger, container.settings.security)

    with pytest.raises(AuthenticationFailed):
        accounts.log_in("alice", "not the password")

    assert stored_hash(container, user_id) == old
    assert sessions_of(container, user_id) == []
    assert count_events(container, AuditAction.LOGIN_FAILED) == 1


def test_set_password_refuses_a_short_password_and_changes_nothing(
    container: Container, build: Builders
) -> None:
    user_id = build.user("alice")
    old = stored_hash(container, user_id)
    token = container.accounts.log_in("alice", PASSWORD).session_token

    with pytest.raises(ValidationError, match="au moins 10"):
        container.accounts.set_password(SYSTEM, "alice", "short")

    assert stored_hash(container, user_id) == old
    assert container.accounts.check_session(token).user is not None
    assert count_events(container, AuditAction.PASSWORD_RESET) == 0
    assert container.accounts.log_in("alice", PASSWORD).user_id == user_id


def test_set_password_changes_the_hash_and_ends_sessions(
    container: Container, build: Builders
) -> None:
    user_id = build.user("alice")
    token = container.accounts.log_in("alice", PASSWORD).session_token

    container.accounts.set_password(SYSTEM, "Alice", "a brand new password")

    assert container.accounts.open_sessions(user_id) == 0
    assert container.accounts.check_session(token).reason == "password reset"
    with pytest.raises(AuthenticationFailed):
        container.accounts.log_in("alice", PASSWORD)
    assert container.accounts.log_in("alice", "a brand new password").user_id == user_id


def test_set_password_of_an_unknown_user_is_refused(container: Container) -> None:
    with pytest.raises(NotFound, match="ghost"):
        container.accounts.set_password(SYSTEM, "ghost", "a long enough password")


# --- sessions ---------------------------------------------------------------------------------


def test_end_stale_sessions_ends_idle_and_expired_sessions_only(
    container: Container, build: Builders
) -> None:
    user_id = build.user("alice")
    accounts = container.accounts
    idle = accounts.log_in("alice", PASSWORD).session_token
    expired = accounts.log_in("alice", PASSWORD).session_token
    fresh = accounts.log_in("alice", PASSWORD).session_token
    idle_id, expired_id, fresh_id = (s.id for s in sessions_of(container, user_id))
    now = utcnow()
    idle_minutes = container.settings.security.session_idle_minutes
    with container.writer() as uow:
        uow.session.execute(
            update(AuthSession)
            .where(AuthSession.id == idle_id)
            .values(last_seen_at=now - dt.timedelta(minutes=idle_minutes + 1))
        )
        uow.session.execute(
            update(AuthSession)
            .where(AuthSession.id == expired_id)
            .values(expires_at=now - dt.timedelta(seconds=1))
        )
        uow.commit()

    assert accounts.end_stale_sessions() == 2

    rows = {s.id: s for s in sessions_of(container, user_id)}
    assert (rows[idle_id].ended_at is not None, rows[idle_id].end_reason) == (True, "idle")
    assert (rows[expired_id].ended_at is not None, rows[expired_id].end_reason) == (
        True,
        "expired",
    )
    assert rows[fresh_id].ended_at is None
    assert accounts.check_session(idle).user is None
    assert accounts.check_session(expired).user is None
    assert accounts.check_session(fresh).user is not None
    assert accounts.end_stale_sessions() == 0


def test_session_token_is_stored_as_sha256_only(container: Container, build: Builders) -> None:
    user_id = build.user("alice")

    token = container.accounts.log_in("alice", PASSWORD).session_token

    [row] = sessions_of(container, user_id)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash


def test_disabling_an_account_ends_its_sessions(container: Container, build: Builders) -> None:
    user_id = build.user("alice")
    token = container.accounts.log_in("alice", PASSWORD).session_token

    disable(container, user_id)

    assert container.accounts.check_session(token).user is None
    assert container.accounts.open_sessions(user_id) == 0


# --- API tokens -------------------------------------------------------------------------------


def test_api_token_is_stored_as_sha256_only(container: Container, build: Builders) -> None:
    user_id = build.user("alice")

    token = container.accounts.create_token(SYSTEM, "alice", "scanner")

    assert token.startswith("ged_")
    with container.reader() as uow:
        [row] = uow.session.execute(select(ApiToken)).scalars().all()
        values = [str(v) for v in uow.session.execute(select(ApiToken.__table__)).one()]
    assert row.user_id == user_id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:10]
    assert not any(token in value for value in values)
    assert container.accounts.user_for_token(token).id == user_id


def test_unknown_api_token_is_refused_and_audited(container: Container) -> None:
    with pytest.raises(AuthenticationFailed):
        container.accounts.user_for_token("ged_not-a-real-token")

    assert count_events(container, AuditAction.TOKEN_REJECTED) == 1


def test_api_token_of_a_disabled_user_is_refused(container: Container, build: Builders) -> None:
    user_id = build.user("alice")
    token = container.accounts.create_token(SYSTEM, "alice")
    assert container.accounts.user_for_token(token).id == user_id

    disable(container, user_id)

    with pytest.raises(AuthenticationFailed):
        container.accounts.user_for_token(token)
    assert count_events(container, AuditAction.TOKEN_REJECTED) == 1


def test_no_api_token_is_made_for_a_disabled_user(container: Container, build: Builders) -> None:
    disable(container, build.user("alice"))

    with pytest.raises(ValidationError, match="désactivé"):
        container.accounts.create_token(SYSTEM, "alice")

    with container.reader() as uow:
        assert uow.session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 0


def test_expired_api_token_is_refused(container: Container, build: Builders) -> None:
    build.user("alice")
    token = container.accounts.create_token(
        SYSTEM, "alice", expires_at=utcnow() - dt.timedelta(minutes=1)
    )

    with pytest.raises(AuthenticationFailed):
        container.accounts.user_for_token(token)


def test_agent_cannot_make_a_token_for_someone_else(container: Container, build: Builders) -> None:
    agent = build.actor(build.user("agent1", role=Role.AGENT))
    build.user("alice")

    with pytest.raises(PermissionDenied):
        container.accounts.create_token(agent, "alice")
