"""The graph page in a real browser marks a node whose own backward has a wrong local derivative.

Headless Chromium (Debian's `chromium`) driven by Playwright, as tests/test_serve_browser.py; skipped where either
is missing (a failure where ZEROGRAD_TEST_REQUIRE_ALL is set, as every skip: tests/conftest.py).
"""

import importlib
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

try:
    importlib.import_module("playwright.sync_api")
except ImportError:
    pytest.skip("playwright is not installed (pip install '.[browser]')", allow_module_level=True)
if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from zerograd.graph.value import Value  # noqa: E402
from zerograd.serve.graphs import export_graph_html  # noqa: E402


def _mul_with_swapped_locals(x, y):
    """A multiplication node written by hand, each input getting its own value back instead of the other's."""

    def backward(dout):
        return dout * x.data, dout * y.data  # the slip: ∂(x·y)/∂x is y, not x

    return Value(x.data * y.data, op="×", inputs=(x, y), backward=backward)


def test_the_exported_page_marks_the_wrong_node_and_says_why(tmp_path):
    apple, num, tax = Value(100.0, name="apple"), Value(2.0, name="apple_num"), Value(1.1, name="tax")
    price = (_mul_with_swapped_locals(apple, num).named("apple_price") * tax).named("price")
    path = export_graph_html(price, tmp_path / "apple.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            page = browser.new_page()
            page.context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
            page.goto(path.as_uri())
            wrong = page.locator("g.op.wrong")
            expect(wrong).to_have_count(1)
            assert wrong.get_attribute("data-node") == "n2"  # apple_price, not the tax node
            status = page.locator("[data-testid=status]")
            expect(status).to_contain_text("Wrong local derivative: apple_price's backward uses the value of apple")
            expect(wrong.locator("title")).to_contain_text("∂(apple·apple_num)/∂apple = apple_num is needed")
        finally:
            browser.close()
