"""The REST API as a client sees it: bearer tokens per role, a small org chart, files.

``people`` (tests/e2e/conftest.py) gives one account per role in unit DG; ``org`` adds a unit
below DG, another unit (DRH) with its own agent, and a bearer token for each account.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.mail import MailInput, Registered
from ged.services.uploads import Upload
from tests.builders import SYSTEM, Builders
from tests.e2e.conftest import People, snapshot

File = tuple[bytes, str]


def pdf(label: str = "lettre") -> bytes:
    """A small file that is a PDF by its magic bytes (what the upload check reads)."""
    return b"%PDF-1.4\n% " + label.encode() + b"\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass(frozen=True)
class Org:
    people: People
    dg: int  # the unit of people.agent and people.manager
    dg_sub: int  # below DG
    drh: int  # another unit
    outsider: int  # an agent of DRH
    tokens: Mapping[str, str]  # username -> bearer token

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


@pytest.fixture
def org(people: People, build: Builders, container: Container) -> Org:
    dg_sub = build.unit("DGSUB", parent_id=people.unit_id, name="Cellule de la DG")
    drh = build.unit("DRH", name="Ressources humaines")
    outsider = build.user("outsider", role=Role.AGENT, unit_id=drh)
    tokens = {
        name: container.accounts.create_token(SYSTEM, name, "tests")
        for name in ("admin", "auditor", "registrar", "manager", "agent", "outsider")
    }
    return Org(people, people.unit_id, dg_sub, drh, outsider, tokens)


def post_mail(
    client: FlaskClient,
    org: Org,
    username: str = "registrar",
    files: Sequence[File] = (),
    **fields: Any,
) -> TestResponse:
    """``POST /api/v1/mail`` as multipart: lists become repeated fields."""
    data: dict[str, Any] = {
        key: [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        for key, value in fields.items()
    }
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(
        "/api/v1/mail",
        data=data,
        headers=org.headers(username),
        content_type="multipart/form-data",
    )


def incoming(org: Org, **overrides: Any) -> dict[str, Any]:
    """The fields of a valid incoming mail addressed to DG."""
    fields: dict[str, Any] = {
        "direction": "incoming",
        "subject": "Demande d'autorisation",
        "correspondent_name": "Société Atlas",
        "unit_ids": [org.dg],
    }
    fields.update(overrides)
    return fields


def register(
    container: Container,
    unit_ids: Sequence[int],
    subject: str = "Courrier",
    direction: str = "incoming",
    files: Sequence[File] = (),
    **overrides: Any,
) -> Registered:
    """Register through the service as the system (fast set-up for list and read tests)."""
    data = MailInput(
        direction=direction,
        subject=subject,
        correspondent_name=overrides.pop("correspondent_name", "Société Atlas"),
        unit_ids=tuple(unit_ids),
        **overrides,
    )
    uploads = [Upload(io.BytesIO(content), name) for content, name in files]
    return container.registry.register(SYSTEM, data, uploads)


def days_ago(container: Container, days: int) -> dt.date:
    return container.registry.today() - dt.timedelta(days=days)


def state(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every business table (``snapshot``) without ``api_token``, whose ``last_used_at`` moves
    when a token is used, refused request or not."""
    tables = snapshot(container)
    del tables["api_token"]
    return tables


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["detail"]
    return body
