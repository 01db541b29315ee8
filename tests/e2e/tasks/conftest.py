"""The circuits' agency (director, a processing unit and its manager, a legal unit, a stranger,
a registrar, an admin, an auditor) with its circuits deployed, and browsers logged in as each."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from ged.adapters.orm import Mail, Task
from ged.bootstrap import Container
from tests.conftest import AuthActions, csrf_token
from tests.integration.circuits.conftest import PASSWORD, Office, make_office

VERSION_RE = re.compile(r'<input[^>]*\bname="version"[^>]*\bvalue="(\d+)"')
Login = Callable[[str], FlaskClient]


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


@pytest.fixture
def login(app: Flask) -> Login:
    """A new browser logged in as ``username`` (the office's people share one password)."""

    def make(username: str) -> FlaskClient:
        auth = AuthActions(app.test_client())
        response = auth.login(username, PASSWORD)
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        return auth.client

    return make


def task_form(client: FlaskClient, task_id: int) -> tuple[str, str]:
    """The CSRF token and task version of a task page's forms."""
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    version = VERSION_RE.search(html)
    assert version, "no task version in the page"
    return csrf_token(html), version.group(1)


def complete(
    client: FlaskClient,
    task_id: int,
    outcome: str,
    form: tuple[str, str] | None = None,
    files: tuple[tuple[str, bytes], ...] = (),
    comment: str = "",
    **fields: Any,
) -> TestResponse:
    """Post a task's completion form as the browser does; ``fields`` are the circuit's values
    (lists for several inputs of one name)."""
    token, version = form or task_form(client, task_id)
    data: dict[str, Any] = {
        "csrf_token": token,
        "version": version,
        "outcome": outcome,
        "comment": comment,
        **{f"var-{name}": value for name, value in fields.items()},
    }
    if files:
        data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/tasks/{task_id}/complete", data=data, content_type="multipart/form-data")


def action(client: FlaskClient, task_id: int, name: str, **fields: Any) -> TestResponse:
    """Claim, release or reassign from the task page's own form."""
    token, version = task_form(client, task_id)
    return client.post(
        f"/tasks/{task_id}/{name}", data={"csrf_token": token, "version": version, **fields}
    )


def make_overdue(container: Container, task_id: int, days: int = 3) -> None:
    """Move a task's deadline into the past (the clock is real; the deadline is data)."""
    with container.writer() as uow:
        uow.session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
        )
        uow.commit()


def mail_status(container: Container, mail_id: int) -> str:
    with container.reader() as uow:
        return uow.session.execute(select(Mail.status).where(Mail.id == mail_id)).scalar_one()


def task_state(container: Container, task_id: int) -> str:
    with container.reader() as uow:
        return uow.session.execute(select(Task.state).where(Task.id == task_id)).scalar_one()
