"""The journeys in Arabic: the same steps, laid out right to left."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import VIEWPORT, Browsing
from tests.browser.journeys import (
    TASK_URL_RE,
    acting,
    choose_language,
    circuit_diagram,
    claim_task,
    complete_task,
    dispatched_late,
    login_as,
    open_as,
    open_inbox,
    open_task,
    overdue_bar,
    overdue_count,
    pdf_text,
    print_receipt,
    register_mail,
    task_row,
    wait_until_read,
    wait_until_searchable,
)
from tests.browser.scans import Letter, arabic_letter_pdf, scan, scan_arabic
from tests.browser.server import PEOPLE, SETUP, LiveServer

pytestmark = pytest.mark.browser

HOME_URL_RE = re.compile(r"^https?://[^/]+/$")

ARABIC = re.compile("[\u0600-\u06ff]")
# A word in lower case Latin letters: French the catalogue did not translate (acronyms such
# as PDF or TIFF are written the same in Arabic).
FRENCH_WORD = re.compile(r"\b[A-ZÀ-Ý]?[a-zß-ÿ]{3,}\b")


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


def arabic_texts(elements: Locator) -> None:
    """Each of ``elements`` is labelled in Arabic: Arabic letters, and no French word left."""
    texts = [" ".join(text.split()) for text in elements.all_inner_texts()]
    assert texts, f"nothing matches {elements}"
    for text in texts:
        if not text:
            continue  # an icon, or a column without a title
        assert ARABIC.search(text), f"not in Arabic: {text!r}"
        assert not FRENCH_WORD.search(text), f"French left in: {text!r}"


def check_arabic(page: Page, title: bool = True) -> None:
    """Right to left, and the navigation bar and the page's title (unless it holds a name)
    speak Arabic."""
    check_right_to_left(page)
    arabic_texts(page.locator(".navbar-nav .nav-link"))
    if title:
        arabic_texts(page.locator("main h1"))


def check_task_page(page: Page) -> None:
    """A task page's headings, and its completion form's labels and buttons, in Arabic."""
    arabic_texts(page.locator("main h2"))
    form = page.locator("form.task-form")
    expect(form).to_be_visible()
    arabic_texts(form.locator("label"))
    arabic_texts(form.locator("[type=submit]"))


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


@pytest.fixture
def speaking_arabic(live_server: LiveServer) -> Iterator[Callable[[Page, str], None]]:
    """People of the demo who work in French switch their interface to Arabic; their own choice
    is given back at the end, whatever happens (the server is shared by the whole run)."""
    switched: list[str] = []

    def switch(page: Page, username: str) -> None:
        switched.append(username)
        choose_language(page, "ar")

    yield switch
    with live_server.container() as ged:
        for username in switched:
            ged.accounts.set_locale(acting(ged, username), PEOPLE[username].locale)


def test_an_arabic_speaking_team_takes_a_scanned_mail_to_its_visa_and_finds_it(
    browsing: Browsing, page: Page, tmp_path: Path, speaking_arabic: Callable[[Page, str], None]
) -> None:
    # The word is in the scanned Arabic letter only: neither subject nor correspondent holds it.
    word = "صهريج"
    login_as(page, "katiba")
    mail = register_mail(
        page,
        subject="طلب رخصة بناء، تجزئة الوحدة",
        correspondent="شركة الأطلس للإنعاش العقاري",
        units=("SAU",),
        mail_type="طلب",  # « Demande »
        files=(scan_arabic("جماعة سلا", "طلب رأي في مشروع بناء", word, tmp_path / "طلب.png"),),
    )
    check_arabic(page)

    # The director works in French; he switches to Arabic and dispatches from « مهامي ».
    director = open_as(browsing, "directeur")
    speaking_arabic(director, "directeur")
    check_arabic(director)
    open_task(director, mail)
    check_arabic(director)
    check_task_page(director)
    deadline = dt.date.today() + dt.timedelta(days=15)
    complete_task(
        director,
        "dispatch",
        {"addressed_unit": "SAU", "processing_deadline": deadline.isoformat()},
        comment="للدراسة وإعداد مشروع الجواب.",
    )
    check_arabic(director)
    expect(task_row(director, mail)).to_have_count(0)

    # The agent's inbox, right to left: the first tab and the first column on the right.
    agent = open_as(browsing, "agent.sau")
    open_inbox(agent, tab="pool")
    check_arabic(agent)
    tabs = agent.locator(".nav-tabs .nav-link")
    assert left(tabs.nth(0)) >= right(tabs.nth(1)), "« Mes tâches » is the rightmost tab"
    headings = agent.locator("table.task-table thead th")
    assert left(headings.first) >= right(headings.last), "the task's name is the first column"
    arabic_texts(headings)
    row = task_row(agent, mail)
    expect(row).to_have_count(1)
    row.locator("a[href^='/tasks/']").first.click()
    agent.wait_for_url(TASK_URL_RE)

    # The task page: the step and its form on the right, the mail beside it on the left.
    check_arabic(agent)
    step = agent.locator("section[aria-labelledby=step-title]")
    beside = agent.locator("section[aria-labelledby=mail-title]")
    assert right(beside) <= left(step), "the step comes first, on the right"
    expect(beside).to_contain_text("شركة الأطلس للإنعاش العقاري")
    claim_task(agent)
    check_task_page(agent)
    answer = agent.locator("#outcome-answer")
    assert left(answer) >= right(agent.locator("label[for=outcome-answer]")), "the radio leads"
    # The draft answer, written in Arabic, goes with the task.
    draft = tmp_path / "مشروع-الجواب.pdf"
    draft.write_bytes(arabic_letter_pdf("الوكالة الحضرية", "جواب على طلب رخصة بناء", "الموافقة"))
    complete_task(agent, "answer", comment="مشروع الجواب جاهز للتأشير.", files=(draft,))
    expect(task_row(agent, mail)).to_have_count(0)
    check_arabic(agent)

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
    expect(agent.locator("#documents tbody tr").nth(1)).to_contain_text("مشروع-الجواب.pdf")

    # The head of the service, in Arabic too, is told by the bell and gives the visa.
    manager = open_as(browsing, "chef.sau")
    speaking_arabic(manager, "chef.sau")
    expect(manager.locator("#notification-count")).to_be_visible()
    manager.locator("#notification-bell").click()
    manager.wait_for_url("**/notifications/")
    check_arabic(manager)
    expect(manager.locator(f"main a[href='{mail.path}']").first).to_be_visible()
    open_task(manager, mail)
    check_arabic(manager)
    check_task_page(manager)
    expect(manager.locator("[data-step]")).to_have_count(3)
    complete_task(manager, "approve", comment="اطلعت عليه، صالح للتوقيع.")
    expect(task_row(manager, mail)).to_have_count(0)
    manager.goto(mail.path)
    check_right_to_left(manager)
    expect(manager.locator("[data-status=answered]").first).to_be_visible()
    finished = circuit_diagram(manager)
    assert finished.done == {"dispatch", "process", "visa"}
    assert finished.current == frozenset()
    expect(manager.locator("#circuit tr[data-step][data-state=done]")).to_have_count(3)
    arabic_texts(manager.locator("#circuit thead th"))

    # The agent finds the mail by a word of its scan, once the worker has read it.
    wait_until_read(agent, mail)
    wait_until_searchable(agent, word, mail)
    check_arabic(agent)
    arabic_texts(agent.locator("label[for=q]"))
    found = agent.locator("section[aria-live] article").filter(
        has=agent.locator(f"a[href='{mail.path}']")
    )
    expect(found).to_have_count(1)
    assert browsing.problems == []


def test_an_arabic_speaking_head_of_service_follows_a_late_task_from_the_dashboard(
    browsing: Browsing,
    page: Page,
    live_server: LiveServer,
    speaking_arabic: Callable[[Page, str], None],
) -> None:
    with live_server.container() as ged:
        unit = ged.admin.unit_by_code(SETUP, "SAU")
        assert unit is not None
    login_as(page, "chef.sau")
    speaking_arabic(page, "chef.sau")
    page.locator("#nav-dashboard").click()
    page.wait_for_url("**/dashboard/")
    check_arabic(page)
    arabic_texts(page.locator("main h1, main h2"))
    before = overdue_count(page, unit.id)

    with live_server.container() as ged:
        mail = dispatched_late(ged, "طلب الإذن بإحداث تجزئة، حي الرياض", "SAU")

    page.reload()
    bar = overdue_bar(page, unit.id)
    expect(bar.locator(".chart-value")).to_have_text(str(before + 1))
    bar.locator("a").first.click()
    page.wait_for_url(f"**/dashboard/tasks?list=overdue*unit={unit.id}")
    check_arabic(page)
    arabic_texts(page.locator("main h1, main table thead th"))
    late = page.locator("main table tbody tr").filter(has=page.locator(f"a[href='{mail.path}']"))
    expect(late).to_have_count(1)
    expect(late).to_contain_text(mail.chrono)

    late.locator(f"a[href='{mail.path}']").click()
    page.wait_for_url(f"**{mail.path}")
    check_right_to_left(page)
    expect(page.locator("[data-overdue]").first).to_be_visible()

    # The home page leads to the late tasks of their units, in red, right to left.
    page.locator(".navbar-brand").click()
    page.wait_for_url(HOME_URL_RE)
    check_arabic(page, title=False)  # it greets the person by name
    to_late_tasks = page.locator("main a[href='/tasks/?tab=overdue']")
    arabic_texts(to_late_tasks)
    to_late_tasks.click()
    page.wait_for_url("**/tasks/?tab=overdue")
    check_arabic(page)
    expect(task_row(page, mail)).to_have_class(re.compile(r"\btask-overdue\b"))
    assert browsing.problems == []
