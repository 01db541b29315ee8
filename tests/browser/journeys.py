"""Steps a person takes in ged, written once and shared by the journeys.

Selectors are ids, names, URLs and ``data-`` attributes, never French wording: the same steps
drive the Arabic interface. Waits are on elements and URLs; the only polls are for background
work (OCR, indexing), bounded in time.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit

from playwright.sync_api import Locator, Page, Response, expect

from ged.bootstrap import Container
from ged.services.audit import Actor
from ged.services.mail import MailInput
from tests.browser.conftest import Browsing
from tests.browser.server import PEOPLE, SETUP, Person

CHRONO_RE = re.compile(r"\b[ADI]-\d{4}-\d+\b")
MAIL_URL_RE = re.compile(r"/mail/(\d+)$")
# OCR and indexing share two cores with the rest of the suite: generous, but bounded.
BACKGROUND_TIMEOUT_S = 180.0
POLL_INTERVAL_S = 1.0


@dataclass(frozen=True)
class RegisteredMail:
    id: int
    chrono: str
    path: str


def poll(check: Callable[[], bool], what: str, timeout: float = BACKGROUND_TIMEOUT_S) -> None:
    """Call ``check`` until it is true; fail after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL_S)


# --- logging in -------------------------------------------------------------------------------


def person(username: str) -> Person:
    return PEOPLE[username]


def login_as(page: Page, username: str) -> Person:
    """Log in through the login form; returns who is logged in."""
    who = person(username)
    page.goto("/login")
    page.locator("#username").fill(who.username)
    page.locator("#password").fill(who.password)
    page.locator("#password").press("Enter")
    expect(page.locator("form[action$='/logout']")).to_be_attached()
    # Stylesheets included: layout checks measure the page as the person sees it.
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", who.locale)
    return who


def choose_language(page: Page, locale: str) -> None:
    """« Langue » in the navigation bar, then the language picked and saved.

    The choice is the person's own and lasts: a journey that changes it changes it back.
    """
    page.locator("#nav-language").click()
    page.wait_for_url("**/account/language")
    choice = page.locator("#locale")
    expect(choice).to_be_focused()
    choice.select_option(locale)
    page.locator("form[action$='/account/language'] [type=submit]").click()
    expect(page.locator("[role=alert].alert-success")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    page.wait_for_load_state("load")


def logout(page: Page) -> None:
    page.locator("form[action$='/logout'] [type=submit]").click()
    expect(page.locator("#username")).to_be_visible()


# --- registering mail ---------------------------------------------------------------------------


def register_mail(
    page: Page,
    *,
    subject: str,
    correspondent: str,
    units: tuple[str, ...],
    mail_type: str = "",
    reference: str = "",
    files: tuple[Path, ...] = (),
    known: bool = False,
    direction: str = "incoming",
    received_on: dt.date | None = None,
) -> RegisteredMail:
    """Register a mail from the registration form, from the keyboard.

    ``units`` are unit codes, ``mail_type`` a mail type's name, ``direction`` incoming, outgoing
    or internal; ``received_on`` replaces today's date (a mail received earlier is due earlier);
    the first file is the main one. A ``known`` correspondent is picked from the
    suggestions; otherwise the form must announce a new one. Starts from the form if the page
    shows it already; ends on the new mail's page.
    """
    if urlsplit(page.url).path != "/mail/new":
        page.goto("/mail/new")
    form = fill_mail_form(
        page,
        subject=subject,
        correspondent=correspondent,
        units=units,
        mail_type=mail_type,
        reference=reference,
        known=known,
        received_on=received_on,
    )
    if direction != "incoming":
        form.locator("#direction").select_option(direction)
    expect(form.locator("#direction")).to_have_value(direction)
    if files:
        form.locator("#files").set_input_files(files[0])
        if files[1:]:
            form.locator("#files-more").set_input_files(list(files[1:]))
    return submit_mail_form(page)


def fill_mail_form(
    page: Page,
    *,
    subject: str,
    correspondent: str,
    units: tuple[str, ...],
    mail_type: str = "",
    reference: str = "",
    known: bool = False,
    received_on: dt.date | None = None,
) -> Locator:
    """Fill the fields a mail is registered with (``#mail-form``), from the keyboard.

    The registration form and the basket's qualification form share them. Returns the form.
    """
    form = page.locator("#mail-form")
    # The form opens on the subject: a registrar types straight away.
    expect(form.locator("#subject")).to_be_focused()
    page.keyboard.type(subject)
    page.keyboard.press("Tab")
    expect(form.locator("#correspondent")).to_be_focused()
    if correspondent:
        # The suggestions for the whole name, not for a prefix a slow keystroke let through.
        with page.expect_response(
            lambda response: _asks(response, "/mail/correspondents", correspondent=correspondent)
        ):
            page.keyboard.type(correspondent)
        _settle_correspondent(page, correspondent, known)
    if received_on is not None:
        form.locator("#mail_date").fill(received_on.isoformat())
    if reference:
        form.locator("#sender_reference").focus()
        page.keyboard.type(reference)
    if mail_type:
        kind = form.locator(
            "#mail_type_id option", has_text=re.compile(rf"^{re.escape(mail_type)} · ")
        )
        value = kind.get_attribute("value")
        assert value, f"no mail type {mail_type!r} in the form"
        form.locator("#mail_type_id").select_option(value)
    for code in units:
        box = _unit_checkbox(page, code)
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    return form


def submit_mail_form(page: Page) -> RegisteredMail:
    """Send ``#mail-form`` with Enter in its subject; the mail registered, whose page is shown."""
    # Enter in a text field sends the form, as the registrar's hands never leave the keyboard.
    page.locator("#mail-form #subject").press("Enter")
    page.wait_for_url(MAIL_URL_RE)
    return shown_mail(page)


def shown_mail(page: Page) -> RegisteredMail:
    """The mail whose page the tab shows."""
    heading = page.locator("h1").inner_text()
    match = CHRONO_RE.search(heading)
    assert match, f"no chrono in the mail page's heading: {heading!r}"
    path = urlsplit(page.url).path
    mail_id = MAIL_URL_RE.search(path)
    assert mail_id is not None
    return RegisteredMail(int(mail_id.group(1)), match.group(0), path)


def _settle_correspondent(page: Page, name: str, known: bool) -> None:
    """Wait for the suggestions about ``name``; take the known one from the keyboard."""
    suggestions = page.locator("#correspondent-suggestions")
    if not known:
        expect(suggestions.locator("[data-new-correspondent] bdi")).to_have_text(name)
        return
    option = suggestions.locator(f"[data-correspondent-name={_css_string(name)}]")
    expect(option).to_be_visible()
    # Down arrow into the suggestions, down again until the name, Enter to take it.
    for _ in range(suggestions.locator("[data-correspondent-id]").count()):
        page.keyboard.press("ArrowDown")
        if option.evaluate("e => e === document.activeElement"):
            break
    expect(option).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#correspondent")).to_be_focused()
    expect(page.locator("#correspondent_id")).not_to_have_value("")


def _unit_checkbox(page: Page, code: str) -> Locator:
    """The addressed-unit checkbox whose label starts with the unit's code."""
    label = page.locator(
        "#mail-form label.form-check-label", has_text=re.compile(rf"^{re.escape(code)} · ")
    )
    expect(label).to_have_count(1)
    target = label.get_attribute("for")
    assert target, f"label of unit {code} names no checkbox"
    return page.locator(f"#{target}")


def _asks(response: Response, path: str, **query: str) -> bool:
    """Whether ``response`` answers a request for ``path`` with these query values."""
    url = urlsplit(response.url)
    asked = parse_qs(url.query)
    return url.path == path and all(asked.get(k) == [v] for k, v in query.items())


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the receipt -------------------------------------------------------------------------------


def print_receipt(page: Page) -> bytes:
    """Open the acknowledgement receipt of the mail just registered, to print it; its PDF bytes.

    After registration the receipt button has the focus: Enter opens the PDF in a new tab.
    """
    link = page.locator("a[href$='/receipt.pdf']")
    expect(link).to_be_focused()
    return open_pdf(page, link, lambda: page.keyboard.press("Enter"))


def print_cover_sheet(page: Page) -> bytes:
    """Open the cover sheet of the mail the tab shows, to print it; its PDF bytes."""
    link = page.locator("#cover-sheet")
    return open_pdf(page, link, link.click)


def open_pdf(page: Page, link: Locator, follow: Callable[[], None]) -> bytes:
    """``follow`` the ``link`` to a PDF that opens in a new tab; the PDF's bytes."""
    href = link.get_attribute("href")
    assert href
    with (
        page.context.expect_page() as opened,
        page.context.expect_event(
            "response", lambda response: urlsplit(response.url).path == href
        ) as answered,
    ):
        follow()
    tab = opened.value
    assert urlsplit(tab.url).path == href
    response = answered.value
    assert response.status == 200, f"{href} answered {response.status}"
    assert response.headers["content-type"] == "application/pdf"
    # The tab shows the PDF in Chromium's viewer, whose page is all Playwright sees of it:
    # fetch the same URL with the tab's cookies for the bytes that were printed.
    printed = tab.request.get(href)
    assert printed.ok
    body = printed.body()
    assert body.startswith(b"%PDF-")
    tab.close()
    return body


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "printed.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


# --- background work and search -----------------------------------------------------------------


def wait_until_read(page: Page, mail: RegisteredMail) -> None:
    """Reload the mail's page until every file's text has been extracted (OCR done)."""

    def done() -> bool:
        page.goto(mail.path)
        failed = page.locator("[data-ocr=failed]")
        if failed.count():
            raise AssertionError(f"OCR failed: {failed.first.locator('..').inner_text()}")
        states = page.locator("[data-ocr]")
        return states.count() > 0 and states.count() == page.locator("[data-ocr=done]").count()

    poll(done, f"the text of {mail.chrono}'s files")


def search(page: Page, words: str) -> list[str]:
    """Search from the search page's box; the chronos of the mails found (first page)."""
    page.goto("/search/")
    box = page.locator("#q")
    expect(box).to_be_focused()
    page.keyboard.type(words)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?.*q=" + re.escape(quote_plus(words))))
    results = page.locator("section[aria-live]")
    expect(results).to_be_visible()
    return [text.strip() for text in results.locator("article a[href^='/mail/']").all_inner_texts()]


def open_as(browsing: Browsing, username: str) -> Page:
    """Another person at their own browser, logged in."""
    page = browsing.new_page()
    login_as(page, username)
    return page


def look_up_chrono(page: Page, chrono: str) -> Locator:
    """Type a chrono in the search page's "go to mail number" box; the links it offers."""
    page.goto("/search/")
    page.locator("#chrono").focus()
    with page.expect_response(lambda response: _asks(response, "/search/chrono", chrono=chrono)):
        page.keyboard.type(chrono)
    expect(page.locator("#chrono-hits > *").first).to_be_visible()
    return page.locator("#chrono-hits a")


def wait_until_searchable(page: Page, words: str, mail: RegisteredMail) -> None:
    """Search until ``mail`` is found by ``words`` (OCR then indexing run in the background)."""
    poll(lambda: mail.chrono in search(page, words), f"{words!r} to find {mail.chrono}")


# --- tasks -------------------------------------------------------------------------------------

TASK_URL_RE = re.compile(r"/tasks/(\d+)$")
INBOX_URL_RE = re.compile(r"/tasks/(\?.*)?$")


def open_inbox(page: Page, tab: str = "mine") -> None:
    """« Mes tâches » from the navigation bar (one click), then one of its tabs."""
    page.locator("#nav-tasks").click()
    page.wait_for_url(INBOX_URL_RE)
    if tab != "mine":
        page.locator(f".nav-tabs a[href$='/tasks/?tab={tab}']").click()
        page.wait_for_url(re.compile(rf"/tasks/\?tab={tab}$"))


def task_row(page: Page, mail: RegisteredMail) -> Locator:
    """The inbox row of ``mail``'s task."""
    return page.locator("tr[data-task]").filter(has=page.locator(f"a[href='{mail.path}']"))


def open_task(page: Page, mail: RegisteredMail, tab: str = "mine") -> int:
    """From the navigation bar to the inbox tab, then to the task of ``mail``; its id."""
    open_inbox(page, tab)
    row = task_row(page, mail)
    expect(row).to_have_count(1)
    task_id = row.get_attribute("data-task")
    assert task_id
    row.locator(f"a[href='/tasks/{task_id}']").click()
    page.wait_for_url(f"**/tasks/{task_id}")
    return int(task_id)


def claim_task(page: Page) -> None:
    """Take the task the tab shows from the unit's pool; its completion form appears."""
    page.locator("form[action$='/claim'] [type=submit]").click()
    expect(page.locator("form[action$='/release']")).to_be_attached()
    expect(page.locator("form.task-form")).to_be_visible()


def complete_task(
    page: Page,
    outcome: str,
    values: dict[str, str] | None = None,
    *,
    comment: str = "",
    files: tuple[Path, ...] = (),
) -> None:
    """Fill the completion form of the task the tab shows and send it.

    ``values`` are the circuit variables the outcome asks for: a unit by its code, a date in
    ISO form, or text. Ends back on the inbox, which says the task was done.
    """
    form = page.locator("form.task-form")
    choice = form.locator(f"#outcome-{outcome}")
    # From the keyboard: the outcomes are radio buttons, Space picks the focused one.
    choice.focus()
    page.keyboard.press("Space")
    expect(choice).to_be_checked()
    for name, value in (values or {}).items():
        field = form.locator(f"[name='var-{name}']")
        expect(field).to_be_visible()
        if field.evaluate("e => e.tagName") == "SELECT":
            option = field.locator("option", has_text=re.compile(rf"^{re.escape(value)} · "))
            picked = option.get_attribute("value")
            assert picked, f"no {value!r} to pick for {name}"
            field.select_option(picked)
        else:
            field.fill(value)
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    if files:
        form.locator("input[type=file][name=files]").set_input_files(list(files))
    form.locator("[type=submit]").click()
    page.wait_for_url(INBOX_URL_RE)
    expect(page.locator("[role=alert].alert-success")).to_be_visible()


# --- the circuit on the mail page ----------------------------------------------------------------


@dataclass(frozen=True)
class Diagram:
    """What the circuit diagram on a mail page shows: the steps marked done and current."""

    done: frozenset[str]
    current: frozenset[str]


def circuit_diagram(page: Page) -> Diagram:
    """Wait for bpmn-js to draw the mail's (first) circuit; the steps it marks."""
    diagram = page.locator("#circuit .circuit-diagram").first
    expect(diagram).to_have_class(re.compile(r"\bcircuit-ready\b"))
    expect(diagram.locator(".circuit-canvas svg").first).to_be_visible()

    def marked(marker: str) -> frozenset[str]:
        ids: list[str] = diagram.locator(f"g.{marker}[data-element-id]").evaluate_all(
            "elements => elements.map(e => e.getAttribute('data-element-id'))"
        )
        return frozenset(ids)

    return Diagram(marked("circuit-done"), marked("circuit-current"))


# --- the scanner folder ------------------------------------------------------------------------


def drop_in_scanner(folder: Path, scan: Path) -> str:
    """Drop ``scan`` in the scanner folder as a scanner does, and wait until the server took it.

    Written under a temporary name then renamed, so the watcher never sees half a file.
    Returns what the server says it did with it; fails with its reason if it refused it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{scan.name}.part"
    partial.write_bytes(scan.read_bytes())
    partial.rename(folder / scan.name)
    done = folder / "done" / f"{scan.name}.reason.txt"
    failed = folder / "failed" / f"{scan.name}.reason.txt"

    def written(reason: Path) -> bool:
        return reason.exists() and reason.stat().st_size > 0

    poll(lambda: written(done) or written(failed), f"the scanner folder to take {scan.name}")
    if failed.exists():
        raise AssertionError(f"the server refused {scan.name}: {failed.read_text()}")
    return done.read_text(encoding="utf-8")


# --- set-ups no page offers, and the dashboard -----------------------------------------------------


def acting(ged: Container, username: str) -> Actor:
    user = ged.admin.user_by_name(SETUP, username)
    assert user is not None, f"no user {username}"
    return Actor.of(user)


def dispatched_late(ged: Container, subject: str, unit_code: str) -> RegisteredMail:
    """A request registered, then dispatched to ``unit_code`` by the director with a deadline
    already past: its processing task is late from the start.

    Written through the services: no page lets a deadline be set in the past.
    """
    unit = ged.admin.unit_by_code(SETUP, unit_code)
    assert unit is not None
    [request] = [kind for kind in ged.registry.mail_types() if kind.code == "DEM"]
    registered = ged.registry.register(
        acting(ged, "secretaire"),
        MailInput(
            direction="incoming",
            subject=subject,
            correspondent_name="Cabinet d'architecture Benslimane",
            mail_type_id=request.id,
            unit_ids=(unit.id,),
        ),
    )
    director = acting(ged, "directeur")
    [circuit] = ged.tasks.progress(director, registered.id)
    [dispatch] = [step for step in circuit.steps if step.bpmn_id == "dispatch"]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    ged.tasks.complete(
        director,
        dispatch.id,
        "dispatch",
        {"addressed_unit": unit.id, "processing_deadline": past.isoformat(timespec="seconds")},
    )
    return RegisteredMail(registered.id, registered.chrono, f"/mail/{registered.id}")


def overdue_bar(page: Page, unit_id: int) -> Locator:
    """The bar of ``unit_id`` in the chart of overdue tasks by unit."""
    chart = page.locator("svg[aria-labelledby^='chart-overdue-units-title']")
    expect(chart).to_be_visible()
    return chart.locator("g.chart-row").filter(
        has=page.locator(f"a[href*='list=overdue'][href$='unit={unit_id}']")
    )


def overdue_count(page: Page, unit_id: int) -> int:
    bar = overdue_bar(page, unit_id)
    if bar.count() == 0:
        return 0
    # An SVG text has no inner_text (not an HTML element): its text content is the number.
    return int((bar.locator(".chart-value").text_content() or "").strip())
