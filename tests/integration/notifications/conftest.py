"""The circuits' agency and its SMTP relay, for notifications and digests."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from ged.adapters.orm import Notification, utcnow
from ged.bootstrap import Container
from ged.services.notifications import NOTIFICATIONS
from tests.integration.circuits.conftest import (  # noqa: F401 (fixtures)
    Office,
    mailing,
    mailing_factory,
    make_office,
    smtp,
)


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


def notifications_of(container: Container, user_id: int | None) -> list[Notification]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            ).scalars()
        )


def chrono_of(office: Office, mail_id: int) -> str:
    return office.container.registry.get(office.auditor, mail_id).mail.chrono


def add_raw(container: Container, user_id: int | None, kind: str, text: str) -> None:
    """A row as the notifications written before notices were stored: a finished sentence."""
    with container.writer() as uow:
        uow.session.execute(
            insert(NOTIFICATIONS),
            {"user_id": user_id, "kind": kind, "text": text, "link": "", "created_at": utcnow()},
        )
        uow.commit()
