"""An agency whose people work in Arabic or French, one registered mail, and a page reader."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from flask.testing import FlaskClient

from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.mail import MailInput
from tests.builders import SYSTEM, Builders
from tests.conftest import AuthActions

TRANSLATIONS = Path(__file__).resolve().parents[3] / "web" / "translations"
LETTER_DATE = dt.date(2026, 3, 9)


@dataclass(frozen=True)
class Agency:
    unit_id: int
    admin_ar: int
    registrar_ar: int
    manager_ar: int
    admin_fr: int
    mail_id: int


@pytest.fixture
def agency(build: Builders, container: Container) -> Agency:
    unit_id = build.unit("URB", name="Division de l'urbanisme")
    container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
    registrar = build.user("katib", role=Role.REGISTRAR, locale="ar")
    mail = container.registry.register(
        build.actor(registrar),
        MailInput(
            direction="incoming",
            subject="Demande d'autorisation de construire",
            correspondent_name="Commune urbaine de Rabat",
            letter_date=LETTER_DATE,
            unit_ids=(unit_id,),
        ),
        [],
    )
    return Agency(
        unit_id=unit_id,
        admin_ar=build.user("mudir", role=Role.ADMIN, locale="ar"),
        registrar_ar=registrar,
        manager_ar=build.user("rais", role=Role.MANAGER, unit_id=unit_id, locale="ar"),
        admin_fr=build.user("admin", role=Role.ADMIN, locale="fr"),
        mail_id=mail.id,
    )


def logged_in(client: FlaskClient, username: str) -> FlaskClient:
    assert AuthActions(client).login(username).status_code == 303
    return client


def catalogue(language: str) -> dict[str, str]:
    """The compiled catalogue the app reads: French msgid → translation (singular forms)."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    found: dict[str, str] = {}
    for message in compiled:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, list | tuple) else message.id
        msgstr = message.string[0] if isinstance(message.string, list | tuple) else message.string
        found[msgid] = msgstr
    return found


class _Reader(HTMLParser):
    """The text nodes and the translatable attributes a person sees or hears."""

    ATTRIBUTES = frozenset({"title", "aria-label", "placeholder", "alt"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.texts.append(value.strip())

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(page: str) -> list[str]:
    reader = _Reader()
    reader.feed(page)
    return reader.texts


def html_tag(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match, "no <html> tag"
    return html.unescape(match.group(0))
