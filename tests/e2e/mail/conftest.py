"""An agency with two services, a mail type and one person per role, plus registry helpers."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ged.adapters.orm import Mail, Version
from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.mail import MailInput, Registered
from ged.services.uploads import Upload
from tests.builders import SYSTEM, Builders
from tests.e2e.conftest import form_token

_content = itertools.count(1)


@dataclass(frozen=True)
class Office:
    """Units: ``urba`` (URB) with a sub-unit ``permits`` (PRM), and ``legal`` (JUR)."""

    urba: int
    permits: int
    legal: int
    request_type: int  # "Demande", 10 working days
    quick_type: int  # "Urgent", 1 working day
    registrar: int
    agent: int  # agent of URB
    permits_agent: int  # agent of PRM (below URB)
    legal_agent: int  # agent of JUR
    auditor: int
    admin: int


@pytest.fixture
def office(build: Builders, container: Container) -> Office:
    urba = build.unit("URB", name="Division de l'urbanisme")
    permits = build.unit("PRM", parent_id=urba, name="Service des autorisations")
    legal = build.unit("JUR", name="Service juridique")
    registry = container.registry
    return Office(
        urba=urba,
        permits=permits,
        legal=legal,
        request_type=registry.create_mail_type(SYSTEM, "DEM", "Demande", 10),
        quick_type=registry.create_mail_type(SYSTEM, "URG", "Urgent", 1),
        registrar=build.user("registrar", role=Role.REGISTRAR),
        agent=build.user("agent", role=Role.AGENT, unit_id=urba),
        permits_agent=build.user("permits", role=Role.AGENT, unit_id=permits),
        legal_agent=build.user("legal", role=Role.AGENT, unit_id=legal),
        auditor=build.user("auditor", role=Role.AUDITOR),
        admin=build.user("admin", role=Role.ADMIN),
    )


def pdf(label: str = "") -> bytes:
    """Bytes that start like a PDF (the upload check reads the magic number); unique content."""
    return f"%PDF-1.4\n% {label or 'test'} {next(_content)}\n%%EOF\n".encode()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def register(
    container: Container,
    build: Builders,
    by: int,
    files: tuple[tuple[str, bytes], ...] = (),
    **fields: Any,
) -> Registered:
    """Register through the service as user ``by``; incoming to no unit unless given."""
    values: dict[str, Any] = {
        "direction": "incoming",
        "subject": "Demande d'autorisation de construire",
        "correspondent_name": "Commune urbaine de Rabat",
    }
    values.update(fields)
    uploads = [Upload(io.BytesIO(content), name) for name, content in files]
    return container.registry.register(build.actor(by), MailInput(**values), uploads)


def form_data(token: str, **fields: Any) -> dict[str, Any]:
    """A valid incoming registration as the browser posts it; ``fields`` override."""
    data: dict[str, Any] = {
        "csrf_token": token,
        "direction": "incoming",
        "subject": "Demande d'autorisation de construire",
        "correspondent": "Commune urbaine de Rabat",
        "correspondent_id": "",
        "letter_date": "",
        "mail_date": "",
        "sender_reference": "REF-2026/17",
        "mail_type_id": "",
        "priority": "normal",
        "channel": "post",
        "answer_to": "",
    }
    data.update(fields)
    return data


def post_registration(client: FlaskClient, **fields: Any) -> TestResponse:
    token = form_token(client, "/mail/new")
    return client.post(
        "/mail/new", data=form_data(token, **fields), content_type="multipart/form-data"
    )


def upload(name: str, content: bytes) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(content), name)


def stored_files(container: Container) -> set[Path]:
    return {p for p in container.store.root.rglob("*") if p.is_file()}


def count(container: Container, model: type[Mail] | type[Version]) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def mail_row(container: Container, mail_id: int) -> Mail:
    with container.reader() as uow:
        return uow.session.execute(select(Mail).where(Mail.id == mail_id)).scalar_one()


def mail_id(container: Container, chrono: str) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(Mail.id).where(Mail.chrono == chrono)).scalar_one()


def days_ago(container: Container, days: int) -> dt.date:
    return container.registry.today() - dt.timedelta(days=days)
