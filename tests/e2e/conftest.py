"""Browser-test harness: Playwright's sync API driving Debian's Chromium against live_server.

- `browser` (session): one headless /usr/bin/chromium for the whole run. Never
  `playwright install`: the closed network has no browser downloads, and the flags below
  stop Chromium's own background connections (DESIGN.md §10).
- `new_page()` (function): a page in a fresh browser context — one per person, so a clerk
  and a staff member keep separate cookies. `page` is the first person's page.
- `shot(page, name)`: a full-page screenshot under var/e2e/<name>.png (kept as CI artefact).
  A failing test also leaves var/e2e/<test>-failure-<n>.png of every page it opened.
- Accessibility: axe-core (npm, node_modules/axe-core, installed by `make test`) checks every
  page a test's browser loads against WCAG 2.1 A and AA, on its `load` event and once more at
  the end of the test; any violation fails the test with the page, the rule and the elements.
  The script is added by Playwright (an init script, outside the page's CSP), so the policy the
  page runs under stays the real one.

Mail sent by the live server lands in `django.core.mail.outbox`: the server thread runs in
this process with the test runner's locmem backend.
"""

import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from playwright.sync_api import Page, expect, sync_playwright

# Playwright's sync API keeps an event loop running in this thread while the browser lives;
# Django would then refuse every ORM call with SynchronousOnlyOperation. Set here only (not in
# settings): it holds for the rest of a run that collects tests/e2e, as the session browser's
# loop also outlives the e2e tests until the session ends.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root in the container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--lang=ja",  # with BROWSER_ENV: date inputs read 2024/10/01, as a Japanese clerk sees
]
# Chromium takes its UI locale (the format of <input type=date>) from the environment, not
# from the context's locale; it needs Debian's chromium-l10n, else it stays en-US.
BROWSER_ENV = {**os.environ, "LANG": "ja_JP.UTF-8", "LC_ALL": "ja_JP.UTF-8"}
SHOT_DIR = Path(settings.BASE_DIR) / "var" / "e2e"
AXE_SOURCE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# The rules of WCAG 2.0 and 2.1 at levels A and AA (axe-core's tags).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """async (tags) => {
    if (document.contentType !== "text/html" || typeof axe === "undefined") return null;
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
    }));
}"""
# Most pages answer in milliseconds, but a conclusion renders and signs several PDFs inside its
# request: on a loaded 2-core machine (two xdist workers, Chromium) that click took over 10 s.
# 20 s still fails a page that hangs quickly enough to read the error.
TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=BROWSER_ENV
        )
        yield browser
        browser.close()


@pytest.fixture
def e2e_db(live_server):
    """live_server's (transactional) database, with a clean database cache.

    The cache table (allauth's rate limits, used TOTP codes) is made by `django_db_setup`
    with createcachetable; it is not a model table, so the flush after each transactional
    test keeps it — and keeps its rows, so empty it here to keep tests independent.
    """
    if "esure_cache" not in connection.introspection.table_names():
        pytest.fail("the database cache table is missing: see django_db_setup in tests/conftest")
    cache.clear()
    return live_server


class AxeAudit:
    """The axe-core results of every page a test's browser loaded: {url: [violation, …]}."""

    def __init__(self):
        self.checked = []  # URLs, in the order checked
        self.violations = {}

    def check(self, page):
        """Run axe on the page as it is now. A page that navigates away while axe runs is left
        to the next page's check (its load event runs this again)."""
        try:
            found = page.evaluate(AXE_RUN, AXE_TAGS)
        except Exception as error:  # the page moved on, or the context closed
            if "destroyed" in str(error) or "closed" in str(error):
                return
            raise
        if found is None:  # a PDF or other non-HTML document
            return
        self.checked.append(page.url)
        if found:
            self.violations.setdefault(page.url, found)

    def report(self):
        lines = []
        for url, found in self.violations.items():
            for v in found:
                lines.append(f"{url}: {v['id']} ({v['impact']}) {v['help']} — {v['targets']}")
        return "\n".join(lines)


@pytest.fixture
def axe_audit():
    if not AXE_SOURCE.exists():
        pytest.fail(f"{AXE_SOURCE} is missing: `make test` installs it (npm ci)")
    return AxeAudit()


@pytest.fixture
def new_page(request, browser, e2e_db, axe_audit):
    """new_page() → a Page in its own browser context (own cookies), at the live server.
    Every page it loads is checked by axe-core (see the module docstring)."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=e2e_db.url,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(path=AXE_SOURCE)
        contexts.append(context)
        page = context.new_page()
        page.on("load", axe_audit.check)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    for n, context in enumerate(contexts, 1):
        for p in context.pages:
            if report is not None and report.failed:
                shot(p, f"{request.node.name}-failure-{n}")
            else:
                axe_audit.check(p)  # the last page, whatever its load event raced with
        context.close()
    if report is not None and report.passed:
        assert not axe_audit.violations, "WCAG 2.1 A/AA violations (axe-core):\n" + (
            axe_audit.report()
        )


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep the call phase's report on the item, so fixtures can screenshot a failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as var/e2e/<name>.png and return its path."""
    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SHOT_DIR / f"{re.sub(r'[^\w.-]+', '_', name)}.png"
    page.screenshot(path=path, full_page=True)
    return path


def totp_code(secret: str) -> str:
    """The current RFC 6238 code (allauth's own HOTP helpers), never one about to expire.

    allauth accepts only the current 30-second step (MFA_TOTP_TOLERANCE = 0): if fewer than
    3 seconds are left, wait for the next step rather than race the boundary.
    """
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


__all__ = ["expect", "shot", "totp_code"]
