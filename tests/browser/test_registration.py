"""A secretary of the bureau d'ordre registers a scanned letter, prints its receipt, finds it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT, Browsing
from tests.browser.journeys import (
    login_as,
    look_up_chrono,
    open_as,
    pdf_text,
    print_receipt,
    register_mail,
    search,
    wait_until_read,
    wait_until_searchable,
)
from tests.browser.scans import Letter, scan

pytestmark = pytest.mark.browser


def test_a_secretary_registers_a_scanned_letter_and_prints_its_receipt(
    browsing: Browsing, page: Page, tmp_path: Path
) -> None:
    letter = Letter("Commune de Témara", "Témara", "Demande d'avis", keyword="quinconce")
    login_as(page, "secretaire")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    brand = page.locator(".navbar-brand").bounding_box()
    assert brand is not None
    assert brand["x"] + brand["width"] < VIEWPORT["width"] / 2, "the brand is on the left"

    mail = register_mail(
        page,
        subject="Demande d'avis sur un projet de construction",
        correspondent="Commune de Témara",
        units=("SAU",),
        mail_type="Demande",
        reference="CT/2026/118",
        files=(scan(letter, tmp_path / "lettre-commune.png"),),
    )

    expect(page.locator("[role=alert]").first).to_contain_text(mail.chrono)
    documents = page.locator("#documents tbody tr")
    expect(documents).to_have_count(1)
    expect(documents).to_contain_text("lettre-commune.png")
    printed = " ".join(pdf_text(print_receipt(page), tmp_path).split())
    assert mail.chrono in printed
    assert "Commune de Témara" in printed
    assert "Demande d'avis sur un projet de construction" in printed
    assert "CT/2026/118" in printed

    expect(page.locator("[data-overdue]")).to_have_count(0)

    # Next, a letter from the same commune, received a month ago and found late: its name is
    # suggested and taken from the keyboard, and the mail is late from the start.
    page.locator("main a[href$='/mail/new']").click()
    page.wait_for_url("**/mail/new")
    late = register_mail(
        page,
        subject="Relance : demande d'avis",
        correspondent="Commune de Témara",
        units=("SAU",),
        mail_type="Demande",
        known=True,
        received_on=dt.date.today() - dt.timedelta(days=30),
    )
    assert late.chrono != mail.chrono
    expect(page.locator("#documents")).not_to_contain_text("lettre-commune.png")
    expect(page.locator("[data-overdue]").first).to_be_visible()
    assert browsing.problems == []


def test_a_search_finds_a_mail_by_a_word_of_its_scan_for_those_who_may_see_it(
    browsing: Browsing, page: Page, tmp_path: Path
) -> None:
    # The word is in the scanned letter only: neither subject nor correspondent holds it.
    word = "encorbellement"
    letter = Letter("Société Riad Immobilier", "Rabat", "Permis de construire", keyword=word)
    login_as(page, "secretaire")
    mail = register_mail(
        page,
        subject="Demande de permis de construire, parcelle 112",
        correspondent="Société Riad Immobilier",
        units=("SAU",),
        mail_type="Demande",
        files=(scan(letter, tmp_path / "permis.png"),),
    )

    wait_until_read(page, mail)
    wait_until_searchable(page, word, mail)

    # The addressed service's agent finds it too; an agent of another division does not.
    addressed = open_as(browsing, "agent.sau")
    assert mail.chrono in search(addressed, word)
    expect(look_up_chrono(addressed, mail.chrono).filter(has_text=mail.chrono)).to_have_count(1)
    other = open_as(browsing, "agent.spu")
    assert search(other, word) == []
    expect(look_up_chrono(other, mail.chrono)).to_have_count(0)
    opened = other.goto(mail.path)
    assert opened is not None
    assert opened.status == 404
    assert browsing.problems == []
