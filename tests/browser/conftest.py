"""Browser tests: headless Chromium (Debian's package) driven by Playwright against `ged serve`.

One server and one browser per run; every test gets fresh browser contexts (own cookies). When a
test fails, a screenshot, the HTML and the console of every open tab, and the end of the server's
log are written to tests/browser/.artifacts/<module>.<test>/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.server import LiveServer, make_instance

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        ViewportSize,
        WebError,
    )

CHROMIUM = Path("/usr/bin/chromium")
# The network is closed: without these, Chromium's own background connections fail noisily.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / ".artifacts"
# A laptop screen, the smallest the agency's staff work on.
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# Two shared cores: pages can be slow to come, never this slow.
ACTION_TIMEOUT_MS = 20_000
NAVIGATION_TIMEOUT_MS = 30_000


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").lower() in ("true", "1")


def require_chromium(executable: Path = CHROMIUM, environ: Mapping[str, str] = os.environ) -> None:
    """Skip without Chromium on a developer's machine; fail in CI, whose setup installs it."""
    if executable.is_file() and os.access(executable, os.X_OK):
        return
    missing = f"{executable} is missing (scripts/system-deps.sh installs Debian's chromium)"
    if in_ci(environ):
        pytest.fail(f"browser tests cannot run in CI: {missing}", pytrace=False)
    pytest.skip(f"browser tests skipped: {missing}")


try:
    import playwright.sync_api  # noqa: F401
except ImportError:
    # A virtualenv made before Playwright joined the dev extras. CI installs them: there the
    # test modules' own imports fail loudly.
    if not in_ci():
        collect_ignore_glob = ["test_*.py"]

        def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
            terminalreporter.write_line(
                "browser tests not collected: Playwright is missing (pip install -e '.[dev]')",
                yellow=True,
            )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    settings = make_instance(folder / "instance")
    server = LiveServer(settings, folder / "server.log", folder / "scanner")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class Browsing:
    """The browser contexts of one test: each is one person at their own browser."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        self.console: list[str] = []
        self.problems: list[str] = []

    def new_page(self, locale: str = "fr-FR") -> Page:
        context = self.browser.new_context(
            base_url=self.server.url, locale=locale, viewport=VIEWPORT, accept_downloads=True
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.on("console", self._on_console)
        context.on("weberror", self._on_error)
        self.contexts.append(context)
        return context.new_page()

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(
            f"{message.type}: {message.text} ({message.page.url if message.page else ''})"
        )
        # A blocked inline script or style is the CSP doing its job on a page that breaks it.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _on_error(self, error: WebError) -> None:
        failure = error.error
        self.console.append(f"uncaught: {failure.message}")
        self.problems.append(f"uncaught JavaScript error: {failure.message}")

    def pages(self) -> list[Page]:
        return [page for context in self.contexts for page in context.pages]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    session = Browsing(browser, live_server)
    yield session
    session.close()


@pytest.fixture
def page(browsing: Browsing) -> Page:
    """A tab in a fresh browser (no cookies), on the live server; French browser settings."""
    return browsing.new_page()


# --- artifacts on failure --------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    browsing = getattr(item, "funcargs", {}).get("browsing")
    if report.failed and report.when in ("setup", "call") and isinstance(browsing, Browsing):
        folder = save_artifacts(item.nodeid, browsing)
        report.sections.append(("browser artifacts", str(folder)))
    return report


def save_artifacts(nodeid: str, browsing: Browsing, root: Path = ARTIFACTS) -> Path:
    """A screenshot and the HTML of every open tab, the console, and the server log's end."""
    path, _, name = nodeid.partition("::")
    folder = root / re.sub(r"[^\w.-]+", "_", f"{Path(path).stem}.{name}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number, tab in enumerate(browsing.pages(), start=1):
        if tab.is_closed():
            continue
        try:
            tab.screenshot(path=folder / f"tab{number}.png", full_page=True, timeout=10_000)
            (folder / f"tab{number}.html").write_text(
                f"<!-- {tab.url} -->\n{tab.content()}", encoding="utf-8"
            )
        # A tab that cannot be captured must not hide the test's own failure.
        except Exception as exc:
            (folder / f"tab{number}.error.txt").write_text(f"{tab.url}\n{exc}\n", encoding="utf-8")
    (folder / "console.txt").write_text("\n".join(browsing.console) + "\n", encoding="utf-8")
    (folder / "server.log").write_text(browsing.server.log_tail(200) + "\n", encoding="utf-8")
    return folder
