"""The circuits' agency and its SMTP relay, for notifications and digests."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ged.adapters.orm import Notification
from ged.bootstrap import Container
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
