"""Screenshots of the browser pages for the README: docs/images/browser_*.png.

Starts the app of ``zerograd serve`` in this process, drives each page in headless Chromium (Debian's `chromium`,
through Playwright) into a state worth showing, and saves a picture of it.

    python scripts/browser_screenshots.py [--out docs/images] [--quick]

--quick: the step-through graphs alone (a few seconds; tests/test_serve_pages.py runs it so), without the net's
SGD steps, the digit pad and the training run.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import uvicorn
from playwright.sync_api import sync_playwright

from zerograd.run import RunSpec
from zerograd.serve.app import create_app
from zerograd.serve.digits import quick_model

FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def serve(watch: str | None = None) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(digit_model=quick_model(), watch=watch)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/images", help="folder for the browser_*.png files")
    parser.add_argument("--quick", action="store_true", help="the graph pages alone")
    args = parser.parse_args()
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as run_dir:
        if not args.quick:  # a finished run of 64 hidden units for /watch, as `zerograd train --out` leaves it
            RunSpec(dataset="mnist-sample", hidden=(64,), epochs=4, out=run_dir, download=False).run()
        shoot(out, args.quick, run_dir)
    print(f"wrote {', '.join(sorted(str(p) for p in out.glob('browser_*.png')))}")


def shoot(out: Path, quick: bool, run_dir: str) -> None:
    url, server = serve(None if quick else run_dir)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760}, device_scale_factor=1)

        def tid(name: str):  # noqa: ANN202
            return page.locator(f'[data-testid="{name}"]')

        # the apple graph, apple at 150, halfway back: price's × has sent its gradients
        page.goto(f"{url}/graph/apple")
        tid("input-apple").fill("150")
        for _ in range(2):
            tid("step-forward").click()
        tid("step-backward").click()
        tid("step-backward").click()
        page.screenshot(path=out / "browser_graph_apple.png", full_page=True)

        # the same lesson on a phone, by keyboard, at its last step: the sum-up of every input's gradient
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(f"{url}/graph/apple")
        for key in ["ArrowRight"] * 5:
            phone.keyboard.press(key)
        phone.screenshot(path=out / "browser_graph_apple_phone.png", full_page=True)
        phone.close()

        # a node used twice: x*y + x, the step where x's second contribution arrives
        page.goto(f"{url}/graph/expr")
        for _ in range(2):
            tid("step-forward").click()
        for _ in range(3):
            tid("step-backward").click()
        page.screenshot(path=out / "browser_graph_expr.png", full_page=True)
        if quick:
            browser.close()
            server.should_exit = True
            return

        # TwoLayerNet on a digit: three SGD steps, then the backward pass down to Affine2
        page.goto(f"{url}/graph/net")
        for k in (1, 2, 3):
            tid("sgd-step").click()
            tid("sgd-steps").filter(has_text=str(k)).wait_for()
        tid("run").click()  # the forward pass and the backward pass, then back to Affine2's step
        tid("step-counter").filter(has_text="backward 5/5").wait_for()
        for _ in range(2):
            page.keyboard.press("ArrowLeft")
        page.set_viewport_size({"width": 1320, "height": 760})
        page.screenshot(path=out / "browser_net.png", full_page=True)
        page.set_viewport_size({"width": 1100, "height": 760})

        # draw a 7 with the mouse
        page.goto(f"{url}/digits")
        box = tid("canvas").bounding_box()
        page.mouse.move(box["x"] + 70, box["y"] + 60)
        page.mouse.down()
        for x, y in [
            *((x, 60) for x in np.linspace(70, 210, 12)),
            *((210 - 80 * t, 60 + 170 * t) for t in np.linspace(0, 1, 16)),
        ]:
            page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.up()
        tid("prediction").filter(has_text="7").wait_for()
        page.wait_for_timeout(300)
        page.screenshot(path=out / "browser_digits.png", full_page=True)

        # live training, caught mid-run
        page.goto(f"{url}/train")
        tid("epochs").fill("30")
        tid("batch-size").fill("20")
        tid("start").click()
        page.wait_for_function(
            "() => parseInt(document.querySelector('[data-testid=epoch]').textContent) >= 12", timeout=120_000
        )
        tid("stop").click()
        tid("train-status").filter(has_text="Stopped").wait_for()
        page.screenshot(path=out / "browser_train.png", full_page=True)

        # a zerograd train run followed from its folder: curves and the first layer's 64 weight tiles
        page.goto(f"{url}/watch")
        tid("epoch").filter(has_text="4 / 4").wait_for()
        page.wait_for_function("() => document.querySelector('[data-testid=weights]').dataset.epoch === '4'")
        page.screenshot(path=out / "browser_watch.png", full_page=True)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
