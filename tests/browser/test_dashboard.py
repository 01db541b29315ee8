"""A head of service sees a late task on the dashboard and follows it down to its mail."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from ged.bootstrap import Container
from ged.services.audit import Actor
from ged.services.mail import MailInput
from tests.browser.conftest import Browsing
from tests.browser.journeys import RegisteredMail, login_as, task_row
from tests.browser.server import SETUP, LiveServer

pytestmark = pytest.mark.browser


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
    return int(bar.locator(".chart-value").inner_text())


def test_a_head_of_service_sees_a_late_task_on_the_dashboard_and_opens_its_list(
    browsing: Browsing, page: Page, live_server: LiveServer
) -> None:
    with live_server.container() as ged:
        unit = ged.admin.unit_by_code(SETUP, "SAU")
        assert unit is not None
    login_as(page, "chef.sau")
    page.locator("#nav-dashboard").click()
    page.wait_for_url("**/dashboard/")
    before = overdue_count(page, unit.id)

    with live_server.container() as ged:
        mail = dispatched_late(ged, "Demande d'autorisation de lotir, secteur Hay Riad", "SAU")

    page.reload()
    bar = overdue_bar(page, unit.id)
    expect(bar.locator(".chart-value")).to_have_text(str(before + 1))
    bar.locator("a").first.click()
    page.wait_for_url(f"**/dashboard/tasks?list=overdue*unit={unit.id}")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(before + 1)
    late = rows.filter(has=page.locator(f"a[href='{mail.path}']"))
    expect(late).to_have_count(1)
    expect(late).to_contain_text(mail.chrono)

    late.locator(f"a[href='{mail.path}']").click()
    page.wait_for_url(f"**{mail.path}")
    expect(page.locator("[data-overdue]").first).to_be_visible()

    # Their home page says so too, and leads to the late tasks of their units, in red.
    page.locator(".navbar-brand").click()
    page.locator("main a[href='/tasks/?tab=overdue']").click()
    page.wait_for_url("**/tasks/?tab=overdue")
    expect(task_row(page, mail)).to_have_class(re.compile(r"\btask-overdue\b"))
    assert browsing.problems == []
