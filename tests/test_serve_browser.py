"""The pages in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Skipped on a machine without chromium or the playwright package; in CI (CI=true) their absence fails the tests.
Playwright is told where Debian's chromium is (executable_path): `playwright install` is never needed.
"""

import contextlib
import importlib
import shutil
import socket
import threading
import time

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def require(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} is not installed (pip install '.[serve,browser]')", allow_module_level=True)


require("fastapi")
require("uvicorn")
require("playwright.sync_api")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from zerograd.datasets import load_mnist_sample  # noqa: E402
from zerograd.graph import format_number  # noqa: E402
from zerograd.serve.app import create_app  # noqa: E402
from zerograd.serve.digits import quick_model  # noqa: E402
from zerograd.serve.graphs import graph_data, graph_html  # noqa: E402
from zerograd.serve.netdata import net_html, net_page_data  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return quick_model()


@contextlib.contextmanager
def serving(app):
    """The app on a free loopback port, in a thread: yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(model):
    with serving(create_app(digit_model=model, allowed_hosts=["127.0.0.1", "localhost"])) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    yield pg
    context.close()
    assert not errors, errors  # no JavaScript error on any page


def by_testid(page, name):
    return page.locator(f'[data-testid="{name}"]')


def test_editing_apple_updates_the_price_and_run_gives_the_tax_gradient(page, server):
    page.goto(f"{server}/graph/apple")
    expect(by_testid(page, "value-price")).to_have_text("")  # the lesson opens before the forward pass
    by_testid(page, "run").click()
    expect(by_testid(page, "value-price")).to_have_text("220")
    expect(by_testid(page, "grad-tax")).to_have_text("200")
    by_testid(page, "input-apple").fill("150")  # after the passes: every number recomputed in place
    expect(by_testid(page, "value-price")).to_have_text("330")
    expect(by_testid(page, "grad-tax")).to_have_text("300")
    by_testid(page, "run").click()  # Run again: from the start, to the same numbers
    expect(by_testid(page, "grad-tax")).to_have_text("300")
    expect(by_testid(page, "grad-apple")).to_have_text("2.2")
    expect(by_testid(page, "grad-apple_num")).to_have_text("165")


def test_stepping_backward_shows_gradients_in_topological_order(page, server):
    page.goto(f"{server}/graph/apple")
    names = ["price", "apple_price", "tax", "apple", "apple_num"]
    for _ in range(2):
        by_testid(page, "step-forward").click()

    def shown():
        return {n for n in names if by_testid(page, f"grad-{n}").inner_text().strip()}

    assert shown() == set()
    expected = [{"price"}, {"price", "apple_price", "tax"}, set(names)]  # output, then each × from the right
    for step, want in enumerate(expected, start=1):
        by_testid(page, "step-backward").click()
        expect(by_testid(page, "step-counter")).to_contain_text(f"backward {step}/3")
        assert shown() == want
    assert by_testid(page, "step-backward").is_disabled()
    assert "∂(apple·apple_num)/∂apple = apple_num" in by_testid(page, "status").inner_text()  # the last step's rule
    by_testid(page, "reset").click()
    expect(by_testid(page, "value-price")).to_have_text("")  # reset: forward values gone too
    by_testid(page, "step-forward").click()
    expect(by_testid(page, "value-apple_price")).to_have_text("200")
    expect(by_testid(page, "value-price")).to_have_text("")


def test_a_node_used_twice_shows_its_two_contributions_adding_up(page, server):
    page.goto(f"{server}/graph/expr")  # x*y + x at x = 2, y = 3
    for _ in range(2):
        by_testid(page, "step-forward").click()
    for _ in range(2):
        by_testid(page, "step-backward").click()
    expect(by_testid(page, "grad-x")).to_have_text("1")  # from + alone so far
    expect(by_testid(page, "grad-parts-x")).to_contain_text("1 of 2 contributions")
    by_testid(page, "step-backward").click()
    expect(by_testid(page, "grad-x")).to_have_text("4")
    expect(by_testid(page, "grad-parts-x")).to_contain_text("1 + 3 = 4")


def test_the_pages_arithmetic_agrees_with_zerograd(page, server):
    page.goto(f"{server}/graph/apple-orange")
    rng = np.random.default_rng(5)
    for _ in range(3):
        values = {
            "apple": float(rng.integers(1, 500)),
            "apple_num": float(rng.integers(1, 9)),
            "orange": round(float(rng.uniform(1, 300)), 2),
            "orange_num": float(rng.integers(1, 9)),
            "tax": round(float(rng.uniform(1, 1.3)), 3),
        }
        for name, v in values.items():
            by_testid(page, f"input-{name}").fill(repr(v))
        by_testid(page, "run").click()
        expect(by_testid(page, "step-counter")).to_contain_text("backward 5/5")
        data = graph_data("apple-orange", values)
        for node in data["nodes"]:
            if node["name"]:
                assert by_testid(page, f"value-{node['name']}").inner_text() == format_number(node["value"])
                assert by_testid(page, f"grad-{node['name']}").inner_text() == format_number(node["grad"])


def test_a_formula_typed_on_the_page_is_drawn_by_zerograd(page, server):
    page.goto(f"{server}/graph/expr")
    by_testid(page, "expression").fill("x*x*x")
    by_testid(page, "expression-submit").click()
    expect(page.locator("h1")).to_have_text("f = x*x*x")
    by_testid(page, "run").click()
    expect(by_testid(page, "grad-x")).to_have_text("12")  # 3x² at x = 2
    by_testid(page, "expression").fill("x.__class__")
    by_testid(page, "expression-submit").click()
    expect(by_testid(page, "expression-error")).to_contain_text("Attribute is not allowed")


def test_the_exported_page_works_from_a_file_with_the_network_blocked(page, tmp_path):
    path = tmp_path / "apple.html"
    path.write_text(graph_html(graph_data("apple")), encoding="utf-8")
    assert path.stat().st_size < 300_000
    outside = []

    def block(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", block)
    page.goto(path.as_uri())
    by_testid(page, "input-apple").fill("150")
    by_testid(page, "run").click()
    expect(by_testid(page, "value-price")).to_have_text("330")
    expect(by_testid(page, "grad-tax")).to_have_text("300")
    assert outside == []


def test_the_exported_net_page_applies_sgd_steps_offline(page, tmp_path):
    path = tmp_path / "net.html"
    path.write_text(net_html(net_page_data(precompute_steps=2)), encoding="utf-8")
    page.context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page.goto(path.as_uri())
    before = float(by_testid(page, "net-loss").inner_text())
    by_testid(page, "sgd-step").click()
    expect(by_testid(page, "sgd-steps")).to_have_text("1")
    assert float(by_testid(page, "net-loss").inner_text()) < before
    by_testid(page, "sgd-step").click()
    expect(by_testid(page, "sgd-step")).to_be_disabled()  # the file holds 2 steps


def test_the_net_page_shows_gradient_norms_and_sgd_lowers_the_loss(page, server):
    page.goto(f"{server}/graph/net")
    expect(by_testid(page, "grad-norm-W1")).to_have_text("")
    by_testid(page, "run").click()
    expect(by_testid(page, "grad-norm-W1")).not_to_have_text("", timeout=10_000)
    w1 = by_testid(page, "norm-W1").inner_text()
    losses = [float(by_testid(page, "net-loss").inner_text())]
    for k in (1, 2, 3):
        by_testid(page, "sgd-step").click()
        expect(by_testid(page, "sgd-steps")).to_have_text(str(k))
        losses.append(float(by_testid(page, "net-loss").inner_text()))
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0]
    assert by_testid(page, "norm-W1").inner_text() != w1  # the weights changed
    assert by_testid(page, "loss-history").inner_text().count("→") == 3


def draw_pixels(page, pixels):
    """Paint a 28×28 image onto the 280×280 canvas, scaled up, and let the page send it."""
    page.evaluate(
        """(pixels) => {
        const off = document.createElement("canvas");
        off.width = off.height = 28;
        drawImage28(off, pixels);
        const pad = document.querySelector('[data-testid="canvas"]');
        const ctx = pad.getContext("2d");
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(off, 0, 0, pad.width, pad.height);
        window.zerogradDigits.changed();
    }""",
        pixels,
    )


def predictions(page):
    return int(page.locator("main").get_attribute("data-predictions") or 0)


def test_drawing_gives_the_right_class(page, server):
    page.goto(f"{server}/digits")
    box = by_testid(page, "canvas").bounding_box()
    page.mouse.move(box["x"] + 140, box["y"] + 40)
    page.mouse.down()
    for y in range(40, 241, 8):
        page.mouse.move(box["x"] + 140, box["y"] + y)
    page.mouse.up()
    expect(by_testid(page, "prediction")).to_have_text("1")
    assert by_testid(page, "probabilities").locator(".bar-row").count() == 10
    # real test digits, drawn pixel by pixel, one of each class
    ds = load_mnist_sample()
    right = 0
    for c in range(10):
        i = int(np.flatnonzero(ds.t_test == c)[0])
        by_testid(page, "clear").click()
        count = predictions(page)
        draw_pixels(page, ds.x_test[i].reshape(28, 28).tolist())
        # (a function, not an expression string: the page's CSP forbids the eval a string would need)
        page.wait_for_function("(n) => Number(document.querySelector('main').dataset.predictions) > n", arg=count)
        page.wait_for_function("() => !window.zerogradDigits.inFlight")
        right += by_testid(page, "prediction").inner_text() == str(c)
    assert right >= 9, right  # the quick net's test accuracy is about 0.91; these ten it gets (nearly) all


def test_the_training_page_streams_epochs_and_stays_responsive(page, server):
    page.goto(f"{server}/train")
    by_testid(page, "epochs").fill("50")
    by_testid(page, "batch-size").fill("5")  # 1,600 small steps an epoch: slow enough to watch and to stop
    by_testid(page, "start").click()
    epoch = "(n) => parseInt(document.querySelector('[data-testid=epoch]').textContent) > n"
    page.wait_for_function(epoch, arg=0, timeout=60_000)
    first = int(by_testid(page, "epoch").inner_text().split("/")[0])
    page.wait_for_function(epoch, arg=first, timeout=60_000)  # advancing
    # while it trains, the server still answers the page quickly
    seconds = page.evaluate("""async () => {
        const t = performance.now();
        const r = await fetch('/api/graph/apple?apple=150');
        await r.json();
        return (performance.now() - t) / 1000;
    }""")
    assert seconds < 2.0, seconds  # generous: the test machine is shared; see benchmarks/serve_latency.py
    assert by_testid(page, "loss-chart").locator("path").count() >= 1
    by_testid(page, "stop").click()
    expect(by_testid(page, "train-status")).to_contain_text("Stopped.", timeout=30_000)
    epoch = int(by_testid(page, "epoch").inner_text().split("/")[0])
    assert 1 < epoch < 50


def test_the_pages_numbers_read_as_zerograds_format_number(page, tmp_path):
    path = tmp_path / "apple.html"
    path.write_text(graph_html(graph_data("apple")), encoding="utf-8")
    page.goto(path.as_uri())
    numbers = [
        220.00000000000003,
        110.00000000000001,
        3.3000000000000003,
        1e-8,
        123456789.0,
        0.0001234,
        1.2345e-5,
        -0.0,
        9.9999996,
        1e21,
        -2.5e-7,
        0.1 + 0.2,
        2 / 3,
        -1234567.0,
        5e-324,
        1.7976931348623157e308,
    ]
    shown = page.evaluate("(xs) => xs.map(x => fmt(x))", numbers)
    assert shown == [format_number(x) for x in numbers]
