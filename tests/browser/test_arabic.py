"""The registration journey in Arabic: the same steps, laid out right to left."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT, Browsing
from tests.browser.journeys import login_as, pdf_text, print_receipt, register_mail
from tests.browser.scans import Letter, scan

pytestmark = pytest.mark.browser


def stylesheets(page: Page) -> list[tuple[str, int]]:
    """Each stylesheet the page applies: its URL and how many rules it holds (0: not loaded)."""
    sheets: list[tuple[str, int]] = page.evaluate(
        "() => Array.from(document.styleSheets, s => [s.href || '', s.cssRules.length])"
    )
    return sheets


def test_an_arabic_speaking_secretary_registers_a_mail_right_to_left(
    browsing: Browsing, page: Page, tmp_path: Path
) -> None:
    login_as(page, "katiba")

    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    sheets = stylesheets(page)
    assert any("bootstrap.rtl" in href and rules > 100 for href, rules in sheets), sheets
    assert not any(href.endswith("/bootstrap.min.css") for href, _ in sheets), sheets
    # Mirrored: the brand starts the navigation bar on the right, the log-out button ends it on
    # the left.
    brand = page.locator(".navbar-brand").bounding_box()
    logout = page.locator("form[action$='/logout'] [type=submit]").bounding_box()
    assert brand is not None
    assert logout is not None
    assert brand["x"] > VIEWPORT["width"] / 2, "the brand is on the right"
    assert logout["x"] + logout["width"] < brand["x"]

    letter = Letter("Commune de Salé", "Salé", "Réclamation", keyword="barbacane")
    mail = register_mail(
        page,
        subject="شكاية بخصوص أشغال البناء",
        correspondent="جماعة سلا",
        units=("SCI",),
        mail_type="Réclamation",
        files=(scan(letter, tmp_path / "شكاية.png"),),
    )

    # The mail page follows the direction: the particulars, first in reading order, on the right.
    assert page.locator("h1").evaluate("e => getComputedStyle(e).direction") == "rtl"
    particulars = page.locator("section[aria-labelledby=fields-title]").bounding_box()
    history = page.locator("section[aria-labelledby=history-title]").bounding_box()
    assert particulars is not None
    assert history is not None
    assert history["x"] + history["width"] <= particulars["x"], "the particulars are on the right"
    expect(page.locator("#documents tbody tr")).to_contain_text("شكاية.png")
    printed = " ".join(pdf_text(print_receipt(page), tmp_path).split())
    assert mail.chrono in printed
    assert browsing.problems == []
