"""The journeys in Arabic: the same steps, laid out right to left."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import VIEWPORT, Browsing
from tests.browser.journeys import (
    TASK_URL_RE,
    circuit_diagram,
    claim_task,
    complete_task,
    login_as,
    open_as,
    open_inbox,
    open_task,
    pdf_text,
    print_receipt,
    register_mail,
    task_row,
)
from tests.browser.scans import Letter, scan

pytestmark = pytest.mark.browser


def stylesheets(page: Page) -> list[tuple[str, int]]:
    """Each stylesheet the page applies: its URL and how many rules it holds (0: not loaded)."""
    sheets: list[tuple[str, int]] = page.evaluate(
        "() => Array.from(document.styleSheets, s => [s.href || '', s.cssRules.length])"
    )
    return sheets


def check_right_to_left(page: Page) -> None:
    """The page is laid out right to left with Bootstrap's RTL build, and only with it."""
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    sheets = stylesheets(page)
    assert any("bootstrap.rtl" in href and rules > 100 for href, rules in sheets), sheets
    assert not any(href.endswith("/bootstrap.min.css") for href, _ in sheets), sheets


def left(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box["x"]


def right(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box["x"] + box["width"]


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
        mail_type="شكاية",  # « Réclamation », by its Arabic name on an Arabic form
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


def test_an_arabic_speaking_agent_processes_a_dispatched_mail_right_to_left(
    browsing: Browsing, page: Page
) -> None:
    login_as(page, "katiba")
    mail = register_mail(
        page,
        subject="طلب رخصة بناء، تجزئة الوحدة",
        correspondent="شركة الأطلس للإنعاش العقاري",
        units=("SAU",),
        mail_type="طلب",  # « Demande »
    )
    check_right_to_left(page)

    director = open_as(browsing, "directeur")
    open_task(director, mail)
    deadline = dt.date.today() + dt.timedelta(days=15)
    complete_task(
        director, "dispatch", {"addressed_unit": "SAU", "processing_deadline": deadline.isoformat()}
    )

    # The agent's inbox, right to left: the first tab and the first column on the right.
    agent = open_as(browsing, "agent.sau")
    open_inbox(agent, tab="pool")
    check_right_to_left(agent)
    tabs = agent.locator(".nav-tabs .nav-link")
    assert left(tabs.nth(0)) >= right(tabs.nth(1)), "« Mes tâches » is the rightmost tab"
    headings = agent.locator("table.task-table thead th")
    assert left(headings.first) >= right(headings.last), "the task's name is the first column"
    row = task_row(agent, mail)
    expect(row).to_have_count(1)
    row.locator("a[href^='/tasks/']").first.click()
    agent.wait_for_url(TASK_URL_RE)

    # The task page: the step and its form on the right, the mail beside it on the left.
    check_right_to_left(agent)
    step = agent.locator("section[aria-labelledby=step-title]")
    beside = agent.locator("section[aria-labelledby=mail-title]")
    assert right(beside) <= left(step), "the step comes first, on the right"
    expect(beside).to_contain_text("شركة الأطلس للإنعاش العقاري")
    claim_task(agent)
    answer = agent.locator("#outcome-answer")
    assert left(answer) >= right(agent.locator("label[for=outcome-answer]")), "the radio leads"
    complete_task(agent, "answer", comment="مشروع الجواب جاهز للتأشير.")
    expect(task_row(agent, mail)).to_have_count(0)
    check_right_to_left(agent)

    # The circuit, drawn left to right as designed, inside the right-to-left mail page.
    agent.goto(mail.path)
    check_right_to_left(agent)
    progress = circuit_diagram(agent)
    assert progress.done == {"dispatch", "process"}
    assert progress.current == {"visa"}
    canvas = agent.locator("#circuit .circuit-canvas").first
    assert canvas.evaluate("e => getComputedStyle(e).direction") == "ltr"
    expect(agent.locator("#circuit tr[data-step=process]")).to_contain_text(
        "مشروع الجواب جاهز للتأشير."
    )
    assert browsing.problems == []
