"""`ged check` verifies the hash chain written by the actions above, and names a tampered row."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import select, update

from ged.adapters.orm import AuditEvent
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.conftest import AuthActions
from tests.e2e.conftest import SESSION_COOKIE, People, events, form_token, session_cookie


def _a_day_of_work(
    auth: AuthActions, new_client: Callable[[], AuthActions], ged: Callable[..., Result]
) -> None:
    """Successes and refusals of every kind, each of which appends to the chain."""
    assert auth.login("admin", "not the password").status_code == 401
    assert auth.login("admin").status_code == 303
    admin = auth.client
    unit = {"code": "SG", "name": "Secrétariat"}
    token = form_token(admin, "/admin/units/new")
    assert admin.post("/admin/units/new", data={**unit, "csrf_token": token}).status_code == 303
    assert admin.post("/admin/units/new", data={**unit, "code": "XX"}).status_code == 400
    assert ged("token", "create", "agent").exit_code == 0
    api = new_client().client
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer ged_no"}).status_code == 401
    old_cookie = session_cookie(admin)
    assert auth.logout().status_code == 303
    replay = new_client().client
    replay.set_cookie(SESSION_COOKIE, old_cookie)
    assert replay.get("/").status_code == 302


def test_check_passes_after_a_day_of_work_and_names_a_tampered_event(
    people: People,
    auth: AuthActions,
    new_client: Callable[[], AuthActions],
    ged: Callable[..., Result],
    container: Container,
) -> None:
    _a_day_of_work(auth, new_client, ged)
    for action in (
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGIN_SUCCEEDED,
        AuditAction.UNIT_CREATED,
        AuditAction.CSRF_REJECTED,
        AuditAction.TOKEN_CREATED,
        AuditAction.TOKEN_REJECTED,
        AuditAction.LOGGED_OUT,
        AuditAction.SESSION_REJECTED,
    ):
        assert events(container, action), action

    clean = ged("check")

    assert clean.exit_code == 0, clean.output
    assert "OK" in clean.output

    [failed] = events(container, AuditAction.LOGIN_FAILED)
    with container.writer() as uow:
        uow.session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == failed.id)
            .values(details={"reason": "nothing happened"})
        )
        uow.commit()

    tampered = ged("check")

    assert tampered.exit_code == 1
    faults = [line for line in tampered.output.splitlines() if line.startswith("FAULT")]
    assert faults == [
        f"FAULT  audit event {failed.id}: content does not match its hash (row was altered)"
    ]


def test_check_notices_a_deleted_audit_event(
    people: People,
    auth: AuthActions,
    new_client: Callable[[], AuthActions],
    ged: Callable[..., Result],
    container: Container,
) -> None:
    _a_day_of_work(auth, new_client, ged)
    with container.reader() as uow:
        ids = uow.session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
    removed = ids[len(ids) // 2]
    with container.writer() as uow:
        uow.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == removed))
        uow.commit()

    result = ged("check")

    assert result.exit_code == 1
    assert f"events {removed}…{removed} are missing" in result.output
