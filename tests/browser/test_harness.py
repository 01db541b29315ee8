"""The browser test harness itself: when it runs, and what it leaves behind on a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Browsing, require_chromium, save_artifacts
from tests.browser.journeys import login_as

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_without_chromium_a_workstation_skips_and_ci_fails(tmp_path: Path) -> None:
    missing = tmp_path / "chromium"
    with pytest.raises(pytest.skip.Exception, match="missing"):
        require_chromium(missing, environ={})
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI"):
        require_chromium(missing, environ={"CI": "true"})
    missing.write_text("#!/bin/sh\n")
    missing.chmod(0o755)
    require_chromium(missing, environ={"CI": "true"})


@pytest.mark.browser
def test_a_failure_leaves_a_screenshot_the_page_and_the_server_log(
    browsing: Browsing, page: Page, tmp_path: Path
) -> None:
    login_as(page, "secretaire")
    page.goto("/search/")

    folder = save_artifacts("tests/browser/test_x.py::test_y[a b]", browsing, root=tmp_path)

    assert folder == tmp_path / "test_x.test_y_a_b_"
    assert (folder / "tab1.png").read_bytes().startswith(PNG_MAGIC)
    html = (folder / "tab1.html").read_text(encoding="utf-8")
    assert "/search/" in html.splitlines()[0]
    assert 'id="q"' in html
    assert "ged listening on" in (folder / "server.log").read_text(encoding="utf-8")
    assert (folder / "console.txt").exists()


@pytest.mark.browser
def test_a_style_the_content_security_policy_refuses_is_a_problem(
    browsing: Browsing, page: Page
) -> None:
    login_as(page, "secretaire")
    assert browsing.problems == []

    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p{}</style>')")

    assert len(browsing.problems) == 1
