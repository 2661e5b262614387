"""The accessibility check of the browser tests can fail: axe-core, injected as every test's
pages get it, reports a page that breaks WCAG 2.1 A, and passes one that does not."""

import pytest

from tests.e2e.conftest import AXE_SOURCE, AxeAudit

pytestmark = pytest.mark.e2e

BROKEN = """<!doctype html><html lang="ja"><head><title>検査</title></head><body><main>
<h1>検査</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">
</main></body></html>"""
FIXED = BROKEN.replace("<img ", '<img alt="図" ').replace(
    '<input type="text">', '<label>氏名 <input type="text"></label>'
)


@pytest.fixture
def bare_page(browser):
    context = browser.new_context()
    context.add_init_script(path=AXE_SOURCE)
    yield context.new_page()
    context.close()


def test_a_page_with_an_unlabelled_field_and_an_image_without_alt_is_reported(bare_page):
    audit = AxeAudit()
    bare_page.set_content(BROKEN)
    audit.check(bare_page)
    rules = {v["id"] for found in audit.violations.values() for v in found}
    assert {"image-alt", "label"} <= rules
    assert "image-alt" in audit.report()


def test_the_same_page_made_accessible_passes(bare_page):
    audit = AxeAudit()
    bare_page.set_content(FIXED)
    audit.check(bare_page)
    assert audit.checked and not audit.violations
