"""The pages as a classroom uses them (issue 25): the apple lesson by keyboard alone, phone and projector layouts,
contrast, text alternatives, and the screenshot script. Headless Chromium as in test_serve_browser.py.

Contrast is computed here from the computed styles (WCAG 2 relative luminance), not taken from the stylesheet.
"""
# ruff: noqa: F811  (the browser tests' fixtures, imported below, are parameters of the tests here)

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# the fixtures and helpers of the browser tests (they skip this module too when chromium or Playwright is missing)
from test_serve_browser import browser, by_testid, expect, model, page, server, serving  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/", "/graph/apple", "/graph/apple-orange", "/graph/expr", "/graph/net", "/digits", "/train", "/watch"]

# Every visible text: its colour, the background behind it (the nearest opaque ancestor background, SVG text on
# the page's), its font size on screen in px (SVG text scaled by its drawing's transform), and where it is.
TEXTS_JS = """() => {
  const rgb = s => { const m = s.match(/[\\d.]+/g); return m ? m.slice(0, 4).map(Number) : null; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                     return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = node => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const node = t.parentElement;
    if (!t.textContent.trim() || !node || node.closest("script, style, dialog:not([open]), .visually-hidden")) continue;
    const style = getComputedStyle(node);
    if (style.visibility === "hidden" || style.display === "none" || !node.getClientRects().length) continue;
    const svg = node instanceof SVGElement;
    const fg = rgb(svg ? style.fill : style.color);
    if (!fg) continue;
    const bg = background(svg ? node.ownerSVGElement : node);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const px = parseFloat(style.fontSize) * (svg ? node.getScreenCTM().a : 1);
    out.push({text: t.textContent.trim().slice(0, 40), svg, contrast: (a + 0.05) / (b + 0.05), px,
              disabled: !!node.closest("button:disabled")});
  }
  return out;
}"""


def texts(pg):
    return pg.evaluate(TEXTS_JS)


def focused(pg):
    """The data-testid of the focused element, and whether it is visible and enabled."""
    return pg.evaluate("""() => { const e = document.activeElement;
        const name = e.dataset ? e.dataset.testid || e.tagName : e.tagName;
        return [name, e.getClientRects().length > 0 && !e.disabled]; }""")


def lesson_state(pg):
    names = ["apple", "apple_num", "tax", "apple_price", "price"]
    return {n: (by_testid(pg, f"value-{n}").inner_text(), by_testid(pg, f"grad-{n}").inner_text()) for n in names}


def test_the_apple_lesson_by_keyboard_alone(page, server):
    page.goto(f"{server}/graph/apple")
    status = by_testid(page, "status")
    height = status.bounding_box()["height"]
    expect(status).to_contain_text("Press → or Space")  # the one-line prompt of a lesson about to start
    # each key; then the table's values and gradients of apple, apple_num, tax, apple_price, price ("-": empty), a
    # phrase of the status line and the focused control
    steps = [
        ("ArrowRight", "100 2 1.1 200 -", "- - - - -", "apple_price = 100 × 2 = 200", "step-forward"),
        ("Space", "100 2 1.1 200 220", "- - - - -", "price = 200 × 1.1 = 220", "step-backward"),
        ("ArrowRight", "100 2 1.1 200 220", "- - - - 1", "∂price/∂price = 1", "step-backward"),
        (
            "Shift+ArrowRight",
            "100 2 1.1 200 220",
            "- - 200 1.1 1",
            "∂(apple_price·tax)/∂tax = apple_price = 200, so it sends 1 × 200 = 200 back",
            "step-backward",
        ),
        ("ArrowLeft", "100 2 1.1 200 220", "- - - - 1", "∂price/∂price = 1", "step-backward"),
        ("Shift+ArrowRight", "100 2 1.1 200 220", "- - 200 1.1 1", "sends 1 × 1.1 = 1.1 back", "step-backward"),
        (
            "ArrowRight",
            "100 2 1.1 200 220",
            "2.2 110 200 1.1 1",
            "All inputs: ∂price/∂apple 2.2, ∂apple_num 110, ∂tax 200",
            "reset",
        ),
        ("r", "100 2 1.1 - -", "- - - - -", "Only the inputs are known", "step-forward"),
    ]
    names = ["apple", "apple_num", "tax", "apple_price", "price"]
    for key, values, grads, phrase, control in steps:
        page.keyboard.press(key)
        cells = [v.replace("-", "") for v in values.split()], [g.replace("-", "") for g in grads.split()]
        assert lesson_state(page) == dict(zip(names, zip(*cells, strict=True), strict=True)), key
        assert phrase in status.inner_text(), (key, status.inner_text())
        assert focused(page) == [control, True], key  # never on <body>, never on a disabled button
        assert status.bounding_box()["height"] == height  # the graph below never jumps
    # ? shows the keys; Esc closes them
    page.keyboard.press("?")
    expect(by_testid(page, "keys-dialog")).to_be_visible()
    expect(by_testid(page, "keys-dialog")).to_contain_text("Shift + →")
    page.keyboard.press("Escape")
    expect(by_testid(page, "keys-dialog")).to_be_hidden()


def test_an_edit_mid_pass_keeps_the_step_and_a_finished_lesson_runs_again(page, server):
    page.goto(f"{server}/graph/apple")
    by_testid(page, "step-forward").click()
    by_testid(page, "input-apple").fill("150")
    expect(by_testid(page, "step-counter")).to_have_text("forward 1/2 · backward 0/3")  # not "forward 2/2"
    expect(by_testid(page, "status")).to_contain_text("apple_price = 150 × 2 = 300")  # the new numbers
    expect(by_testid(page, "value-price")).to_have_text("")
    by_testid(page, "run").click()
    expect(by_testid(page, "step-counter")).to_have_text("forward 2/2 · backward 3/3")
    expect(by_testid(page, "grad-apple_num")).to_have_text("165")
    by_testid(page, "run").click()  # once both passes are done, Run starts the lesson again
    expect(by_testid(page, "step-counter")).not_to_have_text("forward 2/2 · backward 3/3")
    expect(by_testid(page, "step-counter")).to_have_text("forward 2/2 · backward 3/3")


def test_a_plus_node_states_its_local_derivative_once(page, server):
    page.goto(f"{server}/graph/expr")  # x*y + x
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    text = by_testid(page, "status").inner_text()
    assert "/∂x = 1, so it sends" in text, text
    assert "= 1 = 1" not in text
    page.keyboard.press("ArrowRight")
    expect(by_testid(page, "status")).to_contain_text("All inputs: ∂f/∂x 4, ∂y 2")


def test_the_graph_is_described_in_text_for_screen_readers(page, server):
    page.goto(f"{server}/graph/apple")
    svg = page.locator("svg#graph")
    description = page.locator(f"#{svg.get_attribute('aria-describedby')}")
    expect(description.locator("li")).to_have_count(5)
    expect(description).to_contain_text("price (× of apple_price and tax): value not computed yet")
    by_testid(page, "run").click()
    expect(description).to_contain_text("apple (input): value 100, ∂price/∂apple = 2.2")
    expect(description).to_contain_text("price (× of apple_price and tax): value 220, ∂price/∂price = 1")


def test_charts_name_their_axes_and_an_empty_chart_has_sane_ticks(page, server):
    page.goto(f"{server}/train")
    chart = by_testid(page, "loss-chart")
    assert "loss against epoch" in chart.get_attribute("aria-label")
    assert "accuracy against epoch" in by_testid(page, "acc-chart").get_attribute("aria-label")
    ticks = [float(t) for t in chart.locator("text.tick").all_text_contents()]
    assert max(ticks) >= 1 and min(ticks) == 0, ticks  # not 1e-9 … 2.5e-10


@pytest.mark.parametrize("width,height", [(390, 844), (1920, 1080)])
def test_every_page_fits_reads_and_contrasts_on_a_phone_and_a_projector(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    try:
        for path in PAGES:
            pg.goto(f"{server}{path}")
            if path.startswith("/graph/") and path != "/graph/net":
                by_testid(pg, "run").click()  # every label drawn: values, gradients, sums, local derivatives
                pg.wait_for_timeout(50)
                pg.keyboard.press("ArrowLeft")
                pg.keyboard.press("ArrowRight")  # the last step highlighted, with its ×local labels
            if path == "/graph/net":
                by_testid(pg, "run").click()
                expect(by_testid(pg, "step-backward")).to_be_disabled(timeout=10_000)
            scroll = pg.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert scroll[0] <= scroll[1], (path, scroll)  # no sideways scrolling of the page
            found = texts(pg)
            assert found, path
            small = [t for t in found if t["px"] < 12 - 1e-6 and t["svg"]]
            assert not small, (path, small[:5])  # every label of a drawing or chart at 12 px or more
            low = [t for t in found if t["contrast"] < 4.5 and not t["disabled"]]
            assert not low, (path, low[:5])
            # a disabled control is exempt in WCAG; ours still reads at 4 : 1 or more
            assert all(t["contrast"] >= 4.0 for t in found), path
    finally:
        context.close()
    assert not errors, errors


def test_the_screenshot_script_regenerates_the_pictures(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "browser_screenshots.py"), "--out", str(tmp_path), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert {"browser_graph_apple.png", "browser_graph_apple_phone.png", "browser_graph_expr.png"} <= set(names)
    assert all((tmp_path / n).stat().st_size > 5_000 for n in names)


def weights_picture(pg):
    return pg.evaluate("() => document.querySelector('[data-testid=weights]').toDataURL()")


def test_a_cli_run_is_watched_live_from_its_folder(browser, model, tmp_path):
    from zerograd.serve.app import create_app

    out = tmp_path / "run"
    out.mkdir()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    # batches of one: 8,000 steps an epoch, about 0.6 s each on a fast machine (the page reads every 0.5 s), so the
    # page sees the epochs go by
    args = "train --dataset mnist-sample --hidden 30 --epochs 10 --batch-size 1 --overwrite --no-plot --out"
    command = [sys.executable, "-m", "zerograd", *args.split(), str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    with serving(create_app(digit_model=model, watch=str(out))) as url:
        pg.goto(f"{url}/watch")
        expect(by_testid(pg, "watch-status")).to_contain_text("no epoch finished yet")
        train = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            epoch = "(n) => parseInt(document.querySelector('[data-testid=epoch]').textContent) > n"
            pg.wait_for_function(epoch, arg=0, timeout=120_000)
            pg.wait_for_function("() => document.querySelector('[data-testid=weights]').dataset.epoch", timeout=30_000)
            first, picture = int(by_testid(pg, "epoch").inner_text().split("/")[0]), weights_picture(pg)
            assert first < 10, "the run ended before the page saw it train"
            pg.wait_for_function(epoch, arg=first, timeout=120_000)
            pg.wait_for_function(
                "(e) => Number(document.querySelector('[data-testid=weights]').dataset.epoch) > e",
                arg=first,
                timeout=30_000,
            )
            assert weights_picture(pg) != picture  # the weights changed as it trained
            assert "hidden units' weights W1 (784×30)" in by_testid(pg, "weights").get_attribute("aria-label")
            assert train.wait(timeout=300) == 0, train.stderr.read()[-2000:]
            pg.wait_for_function(
                "() => document.querySelector('[data-testid=epoch]').textContent.startsWith('10 / 10')", timeout=30_000
            )
            assert by_testid(pg, "loss-chart").locator("path").count() >= 1
        finally:
            if train.poll() is None:
                train.kill()
                train.wait()
            context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A BatchNorm+Dropout MLP (trained 30 steps, so its running statistics mean something) and a SimpleConvNet."""
    from zerograd.checkpoint import save
    from zerograd.convnets import SimpleConvNet
    from zerograd.datasets import load_mnist_sample
    from zerograd.nets import MultiLayerNetExtend

    folder = tmp_path_factory.mktemp("checkpoints")
    ds = load_mnist_sample(dtype=np.float64)
    mlp = MultiLayerNetExtend(784, [40, 30], 10, use_batchnorm=True, use_dropout=True, dropout_ration=0.2, rng=1)
    rng = np.random.default_rng(0)
    for _ in range(30):
        batch = rng.choice(len(ds.x_train), 100)
        grads = mlp.gradient(ds.x_train[batch], ds.t_train[batch])
        for key, param in mlp.params.items():
            param -= 0.1 * grads[key]
    conv = SimpleConvNet(
        input_dim=(1, 28, 28),
        conv_param={"filter_num": 8, "filter_size": 5, "pad": 0, "stride": 1},
        hidden_size=20,
        output_size=10,
        rng=2,
    )
    return {"mlp": (save(folder / "mlp.npz", mlp), mlp), "conv": (save(folder / "conv.npz", conv), conv)}


def shape_text(shape):
    return f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''})"


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_the_net_view_of_a_checkpoint_steps_its_layers_and_sgd_lowers_its_loss(
    browser,
    model,
    checkpoints,
    kind,
):
    from zerograd.serve.app import create_app

    path, net = checkpoints[kind]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    with serving(create_app(digit_model=model, checkpoint=str(path))) as url:
        pg.goto(f"{url}/graph/net")
        expect(pg.locator("h1")).to_contain_text(f"{type(net).__name__} of {path}")
        rows = pg.locator("#param-table tbody tr")
        expect(rows).to_have_count(len(net.params))
        shown = {
            rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(1).inner_text()
            for i in range(len(net.params))
        }
        assert shown == {key: shape_text(p.shape) for key, p in net.params.items()}  # the checkpoint's shapes
        layers = list(net.layers)
        assert pg.locator("svg#net g.layer").count() == len(layers) + 1  # one box a layer, and the loss
        # layer by layer: forward to the loss, then backward to the first layer, its gradient norm appearing
        by_testid(pg, "reset").click()
        for k in range(1, len(layers) + 2):
            by_testid(pg, "step-forward").click()
            expect(by_testid(pg, "step-counter")).to_contain_text(f"forward {k}/")
        first = next(iter(net.params))
        expect(by_testid(pg, f"grad-norm-{first}")).to_have_text("")
        while not by_testid(pg, "step-backward").is_disabled():
            by_testid(pg, "step-backward").click()
        assert float(by_testid(pg, f"grad-norm-{first}").inner_text()) > 0
        losses = [float(by_testid(pg, "net-loss").inner_text())]
        for k in (1, 2, 3):
            by_testid(pg, "sgd-step").click()
            expect(by_testid(pg, "sgd-steps")).to_have_text(str(k))
            losses.append(float(by_testid(pg, "net-loss").inner_text()))
        assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    context.close()
    assert not errors, errors


def test_an_exported_checkpoint_net_page_holds_the_steps_asked_and_says_when_they_run_out(
    page,
    checkpoints,
    tmp_path,
):
    path, _ = checkpoints["conv"]
    html = tmp_path / "net.html"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zerograd",
            "graph",
            "net",
            "--html",
            str(html),
            "--steps",
            "2",
            "--checkpoint",
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page.context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page.goto(html.as_uri())
    expect(by_testid(page, "sgd-limit")).to_have_text("")
    for _ in range(2):
        by_testid(page, "sgd-step").click()
    expect(by_testid(page, "sgd-step")).to_be_disabled()
    expect(by_testid(page, "sgd-limit")).to_contain_text("holds 2 SGD steps")
    expect(by_testid(page, "sgd-limit")).to_contain_text("--steps N")
    # a wrong value: one line, exit 2, nothing written
    bad = subprocess.run(
        [sys.executable, "-m", "zerograd", "graph", "net", "--html", str(tmp_path / "x.html"), "--steps", "51"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "--steps must be from 0 to 50" in bad.stderr and len(bad.stderr.splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("width,layout", [(390, "vertical"), (1920, "horizontal")])
def test_the_apple_graph_stands_upright_on_a_phone_and_fits_without_scrolling(browser, server, width, layout):
    context = browser.new_context(viewport={"width": width, "height": 844})
    pg = context.new_page()
    try:
        pg.goto(f"{server}/graph/apple")
        svg = pg.locator("svg#graph")
        assert svg.get_attribute("data-layout") == layout
        fits = pg.evaluate(
            "() => { const f = document.querySelector('figure.graph'); return f.scrollWidth <= f.clientWidth; }"
        )
        assert fits  # the whole drawing in view, its labels still >= 12 px (checked above for every page)
    finally:
        context.close()


def test_the_net_page_opens_before_the_forward_pass_and_steps_by_keyboard(page, server):
    page.goto(f"{server}/graph/net")  # TwoLayerNet: Affine1, Relu1, Affine2, SoftmaxWithLoss
    counter, description = by_testid(page, "step-counter"), by_testid(page, "net-description")
    expect(counter).to_have_text("forward 0/4 · backward 0/5")
    expect(description).to_contain_text("Affine1 (Affine): takes (1, 784); W1 (784, 50) of norm")
    for k in range(1, 5):
        page.keyboard.press("ArrowRight")
        expect(counter).to_have_text(f"forward {k}/4 · backward 0/5")
        assert focused(page)[1]
    expect(description).to_contain_text("Affine1 (Affine): takes (1, 784); gives (1, 50)")
    assert focused(page) == ["step-backward", True]
    for k in range(1, 6):
        page.keyboard.press("Shift+ArrowRight")
        expect(counter).to_have_text(f"forward 4/4 · backward {k}/5")
    assert focused(page) == ["reset", True]
    expect(description).to_contain_text("gradient norm")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("forward 4/4 · backward 4/5")
    page.keyboard.press("r")
    expect(counter).to_have_text("forward 0/4 · backward 0/5")


def test_the_digit_pad_has_a_keyboard_way_in(page, server):
    page.goto(f"{server}/digits")
    select = by_testid(page, "example")
    select.focus()
    for label in (3, 7):
        select.select_option(label=f"a {label}")  # as the arrow keys of a focused list would
        expect(by_testid(page, "prediction")).to_have_text(str(label), timeout=10_000)


def test_the_training_page_names_what_it_trains_on_and_a_reopened_page_shows_that_runs_form(page, server):
    page.goto(f"{server}/train")
    by_testid(page, "dataset").select_option("mnist")
    by_testid(page, "hidden").fill("10")
    by_testid(page, "epochs").fill("1")
    by_testid(page, "start").click()
    status = by_testid(page, "train-status")
    expect(status).to_contain_text("Done in", timeout=60_000)
    started = page.evaluate("() => fetch('/api/train').then(r => r.json())")["events"][0]
    if started["dataset"] == "mnist":  # a machine with MNIST on disk trains on it, and says so
        assert "on mnist (" in status.inner_text() and "instead" not in status.inner_text()
    else:  # here, offline: the bundled sample, named as such, never silently
        assert started["dataset"] == "mnist-sample"
        expect(status).to_contain_text("No local copy of mnist here, so this run trains on mnist-sample instead")
        expect(status).to_contain_text("8000 training")
    page.reload()
    expect(by_testid(page, "epoch")).to_have_text("1 / 1")
    assert by_testid(page, "dataset").input_value() == "mnist"  # the form of the run shown, not the defaults
    assert by_testid(page, "hidden").input_value() == "10"
    assert by_testid(page, "epochs").input_value() == "1"
    # the mean loss of an epoch sits at the epoch's middle (0.5), not at its end
    assert page.evaluate("() => window.zerogradTrain.epochs.length") == 1
    path = by_testid(page, "loss-chart").locator("path").nth(1).get_attribute("d")
    x0, x1 = page.evaluate("""() => {
        const axis = document.querySelector('[data-testid=loss-chart] line.axis');  // the x axis, drawn first
        return [+axis.getAttribute('x1'), +axis.getAttribute('x2')]; }""")
    x = float(path[1:].split(",")[0])
    assert abs(x - (x0 + (x1 - x0) * 0.5)) < 1, (x, x0, x1)


@pytest.mark.parametrize("width", [390, 1920])
def test_the_status_holds_every_step_in_one_height(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    pg = context.new_page()
    try:
        pg.goto(f"{server}/graph/apple-orange")  # the longest steps: × of two compound nodes, 5 inputs summed up
        status = by_testid(pg, "status")
        height = status.bounding_box()["height"]
        for _ in range(3 + 6):
            pg.keyboard.press("ArrowRight")
            assert status.bounding_box()["height"] == height
            overflow = status.evaluate("s => s.scrollHeight - s.clientHeight")
            assert overflow <= 0, (status.inner_text(), overflow)  # all of it in view, nothing to scroll to
        expect(status).to_contain_text("All inputs: ∂price/∂apple 2.2, ∂apple_num 110, ∂orange 3.3")
    finally:
        context.close()


def test_a_long_net_scrolls_its_drawing_to_the_layer_being_stepped(page, checkpoints, tmp_path):
    from zerograd.serve.netdata import checkpoint_source, net_html, net_page_data

    path, net = checkpoints["mlp"]  # 9 layers and the loss in one row: wider than the page
    html = tmp_path / "net.html"
    html.write_text(net_html(net_page_data(precompute_steps=0, source=checkpoint_source(net, str(path)))), "utf-8")
    page.goto(html.as_uri())
    for _ in range(len(net.layers) + 1):
        page.keyboard.press("ArrowRight")
        visible = page.evaluate("""() => { const f = document.querySelector('figure.graph').getBoundingClientRect();
            const r = document.querySelector('#net .layer.hot').getBoundingClientRect();
            return r.left >= f.left && r.right <= f.right; }""")
        assert visible
    assert page.evaluate("document.querySelector('figure.graph').scrollLeft") > 0
