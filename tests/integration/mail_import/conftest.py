"""A small org chart and mail types to import a paper register into, and CSV helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ged.adapters.orm import Correspondent, Mail
from ged.bootstrap import Container
from tests.builders import SYSTEM, Builders

HEADER = ("direction", "date", "correspondent", "subject", "reference", "type", "units")


@dataclass(frozen=True)
class Office:
    dg: int
    drh: int
    request_type: int  # code DEM
    today: dt.date

    def day(self, days_ago: int) -> str:
        """A date as the paper register writes it (DD/MM/YYYY)."""
        return (self.today - dt.timedelta(days=days_ago)).strftime("%d/%m/%Y")


@pytest.fixture
def office(container: Container, build: Builders) -> Office:
    dg = build.unit("DG", name="Direction générale")
    drh = build.unit("DRH", name="Ressources humaines")
    request_type = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
    return Office(dg, drh, request_type, container.registry.today())


def csv_bytes(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = HEADER,
    delimiter: str = ";",
    bom: bool = False,
) -> bytes:
    """A register as a spreadsheet exports it; cells are written as given (quote them)."""
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def write_csv(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return str(path)


def mails(container: Container) -> list[Mail]:
    with container.reader() as uow:
        return list(uow.session.execute(select(Mail).order_by(Mail.id)).scalars())


def correspondent_count(container: Container) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(func.count()).select_from(Correspondent)).scalar_one()
