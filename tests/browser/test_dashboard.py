"""A head of service sees a late task on the dashboard and follows it down to its mail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Browsing
from tests.browser.journeys import dispatched_late, login_as, overdue_bar, overdue_count, task_row
from tests.browser.server import SETUP, LiveServer

pytestmark = pytest.mark.browser


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
