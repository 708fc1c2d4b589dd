// A zerograd train run followed from its folder (serve --watch RUN_DIR): metrics.csv as curves, the checkpoint's
// first layer as an image grid, both read again every POLL_MS.
"use strict";

const POLL_MS = 500, TILE_GAP = 2;

class WatchPage {
  constructor(root) {
    this.q = s => root.querySelector(`[data-testid=${s}]`);
    this.poll();
  }

  async poll() {
    try {
      const response = await fetch("/api/watch");
      const body = await response.json();
      if (!response.ok) {
        this.q("watch-status").textContent = body.error;
        if (response.status === 400) return;  // no run to watch on this server: asking again will not change that
      } else {
        this.render(body);
      }
    } catch (err) {
      this.q("watch-status").textContent = `The server is not answering (${err.message}); trying again.`;
    }
    setTimeout(() => this.poll(), POLL_MS);
  }

  render(s) {
    const last = s.epochs[s.epochs.length - 1];
    const total = s.total_epochs;
    this.q("watch-status").textContent = `Watching ${s.folder}: ` + (last
      ? `${s.epochs.length} epoch${s.epochs.length > 1 ? "s" : ""} in metrics.csv` +
        (s.checkpoint_epoch !== null ? `, checkpoint of epoch ${s.checkpoint_epoch}.` : ".")
      : "no epoch finished yet (metrics.csv appears after the first).") + (s.error ? ` ${s.error}` : "");
    this.q("epoch").textContent = last ? `${last.epoch} / ${total || "?"}` : "–";
    this.q("train-loss").textContent = last ? fmt(last.loss, 4) : "–";
    this.q("test-acc").textContent = last && last.test_acc !== null ? last.test_acc.toFixed(4) : "–";
    const xMax = Math.max(total || 1, last ? last.epoch : 1);
    lineChart(this.q("loss-chart"), [
      // NOTE: metrics.csv's loss is the epoch's mean: drawn at the epoch's middle
      {name: "mean loss of each epoch (at its middle)", color: "#0969da",
       points: s.epochs.map(e => [e.epoch - 0.5, e.loss])},
    ], {xLabel: "epoch", yLabel: "loss", xMax, yMin: 0});
    lineChart(this.q("acc-chart"), [
      {name: "train", color: "#0969da", points: s.epochs.filter(e => e.train_acc !== null).map(e => [e.epoch, e.train_acc])},
      {name: "test", color: "#cf222e", points: s.epochs.filter(e => e.test_acc !== null).map(e => [e.epoch, e.test_acc])},
    ], {xLabel: "epoch", yLabel: "accuracy", xMax, yMin: 0, yMax: 1, legend: "bottom"});
    if (s.weights) this.drawWeights(s.weights, s.checkpoint_epoch);
  }

  // The images side by side in a square-ish grid, one canvas pixel per weight (scaled up by CSS, pixelated).
  drawWeights(w, epoch) {
    const canvas = this.q("weights"), images = w.images;
    const h = images[0].length, wd = images[0][0].length;
    const cols = Math.ceil(Math.sqrt(images.length)), rows = Math.ceil(images.length / cols);
    canvas.width = cols * (wd + TILE_GAP) - TILE_GAP;
    canvas.height = rows * (h + TILE_GAP) - TILE_GAP;
    const zoom = Math.max(1, Math.floor(Math.min(500, document.documentElement.clientWidth - 80) / canvas.width));
    canvas.style.width = `${canvas.width * zoom}px`;
    canvas.style.height = `${canvas.height * zoom}px`;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(canvas.width, canvas.height);
    img.data.fill(255);
    images.forEach((tile, k) => {
      const x0 = (k % cols) * (wd + TILE_GAP), y0 = Math.floor(k / cols) * (h + TILE_GAP);
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < wd; c++) {
          const v = Math.round(255 * tile[r][c]), i = 4 * ((y0 + r) * canvas.width + x0 + c);
          img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
        }
      }
    });
    ctx.putImageData(img, 0, 0);
    const what = w.kind === "filters" ? `${images.length} filters of ${w.parameter} (${w.shape.join("×")}), ` +
      "each the mean over its input channels" : `${images.length} hidden units' weights ${w.parameter} ` +
      `(${w.shape.join("×")}), each as a ${h}×${wd} image`;
    this.q("weights-title").textContent = `First layer's weights after epoch ${epoch}`;
    canvas.setAttribute("aria-label", `${what}, after epoch ${epoch}`);
    canvas.dataset.epoch = String(epoch);
  }
}

window.addEventListener("DOMContentLoaded", () => { window.zerogradWatch = new WatchPage(document.querySelector("main")); });
