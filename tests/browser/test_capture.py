"""Scans from the scanner folder: behind a cover sheet they join their mail; alone, the basket."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing
from tests.browser.journeys import (
    CHRONO_RE,
    MAIL_URL_RE,
    drop_in_scanner,
    fill_mail_form,
    login_as,
    print_cover_sheet,
    register_mail,
    submit_mail_form,
)
from tests.browser.scans import Letter, letter_pdf, scan, scan_pile
from tests.browser.server import LiveServer

pytestmark = pytest.mark.browser


def test_a_letter_scanned_behind_its_cover_sheet_joins_its_mail(
    browsing: Browsing, page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    # Registered at the counter without its pages; they go through the scanner afterwards.
    login_as(page, "secretaire")
    mail = register_mail(
        page,
        subject="Dossier de lotissement Al Manar, plans",
        correspondent="Bureau d'études Tensift",
        units=("SAU",),
        mail_type="Demande",
    )
    expect(page.locator("#documents tbody tr")).to_have_count(0)

    cover = print_cover_sheet(page)
    letter = Letter("Bureau d'études Tensift", "Marrakech", "Lotissement", keyword="viabilisation")
    pile = scan_pile([cover, letter_pdf(letter)], tmp_path / "scan-0001.pdf")
    taken = drop_in_scanner(live_server.scanner, pile)
    assert mail.chrono in taken, taken

    page.reload()
    documents = page.locator("#documents tbody tr")
    expect(documents).to_have_count(1)
    # The cover sheet itself is dropped: the letter's page is what joins the mail.
    expect(documents).to_contain_text("scan-0001")
    expect(page.locator("#history li[data-action='mail.scan_attached']")).to_have_count(1)
    assert browsing.problems == []


def test_a_scan_without_cover_sheet_waits_in_the_basket_until_qualified(
    browsing: Browsing, page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    letter = Letter("Association Oasis Verte", "Témara", "Réclamation", keyword="nuisances")
    drop_in_scanner(live_server.scanner, scan(letter, tmp_path / "scan-0002.png"))

    login_as(page, "secretaire")
    page.locator("#nav-basket").click()
    page.wait_for_url("**/capture/")
    draft = page.locator("tr[data-draft]").filter(has_text="scan-0002.png")
    expect(draft).to_have_count(1)
    draft_id = draft.get_attribute("data-draft")
    assert draft_id
    draft.locator(f"a[href$='/capture/drafts/{draft_id}']").click()
    page.wait_for_url(f"**/capture/drafts/{draft_id}")

    fill_mail_form(
        page,
        subject="Réclamation contre les nuisances d'un chantier",
        correspondent="Association Oasis Verte",
        units=("SCI",),
        mail_type="Réclamation",
    )
    mail = submit_mail_form(page)

    assert CHRONO_RE.fullmatch(mail.chrono)
    assert MAIL_URL_RE.search(page.url)
    expect(page.locator("[role=alert]").first).to_contain_text(mail.chrono)
    expect(page.locator("#documents tbody tr")).to_contain_text("scan-0002.png")
    page.locator("#nav-basket").click()
    page.wait_for_url("**/capture/")
    expect(page.locator("tr[data-draft]").filter(has_text="scan-0002.png")).to_have_count(0)
    assert browsing.problems == []
