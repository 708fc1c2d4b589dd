// Live training: start a run on the server, then draw its events (server-sent) as they arrive.
"use strict";

class TrainPage {
  constructor(root) {
    this.root = root;
    this.q = s => root.querySelector(`[data-testid=${s}]`);
    this.form = root.querySelector("#train-form");
    this.form.addEventListener("submit", e => { e.preventDefault(); this.start(); });
    this.q("stop").addEventListener("click", () => fetch("/api/train/stop", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}));
    this.reset();
    this.render();
    // a run already going (started from another tab, or before a reload): follow it
    fetch("/api/train").then(r => r.json()).then(s => {
      if (s.run === null) return;
      for (const e of s.events) this.handle(e);
      if (s.running) this.listen(s.events.length);
    });
  }

  reset() {
    this.points = [];      // [epoch (fractional), mean loss over the last few iterations]
    this.epochs = [];      // epoch events
    this.total = null;
    this.received = 0;
  }

  async start() {
    const f = new FormData(this.form);
    const settings = {dataset: f.get("dataset"), hidden: +f.get("hidden"), epochs: +f.get("epochs"),
                      batch_size: +f.get("batch_size"), optimizer: f.get("optimizer"), lr: +f.get("lr")};
    const response = await fetch("/api/train", {method: "POST", headers: {"Content-Type": "application/json"},
                                                body: JSON.stringify(settings)});
    const body = await response.json();
    if (!response.ok) { this.q("train-status").textContent = body.error; return; }
    this.reset();
    this.total = settings.epochs;
    this.run = body.run;
    this.render();
    this.listen(0);
  }

  listen(since) {
    if (this.source) this.source.close();
    this.source = new EventSource(`/api/train/events?since=${since}`);
    this.source.onmessage = m => this.handle(JSON.parse(m.data));
    this.source.onerror = () => { if (this.source.readyState === EventSource.CLOSED) this.source = null; };
  }

  handle(e) {
    this.received += 1;
    const status = this.q("train-status");
    if (e.type === "start") {
      this.reset();
      this.total = e.settings.epochs;
      this.showSettings(e.settings);
      // what it trains on, by name and origin: MNIST without a local copy is the bundled sample, and says so
      const instead = e.dataset !== e.settings.dataset
        ? `No local copy of ${e.settings.dataset} here, so this run trains on ${e.dataset} instead. ` : "";
      this.described = `${instead}TwoLayerNet(784, ${e.settings.hidden}, 10) with ` +
        `${e.settings.optimizer} (lr ${e.settings.lr}, batch ${e.settings.batch_size}) on ${e.dataset} ` +
        `(${e.source || "?"}): ${e.train_size} training and ${e.test_size} test samples, ` +
        `${e.iterations_per_epoch} iterations per epoch.`;
      status.textContent = `Training ${this.described}`;
      this.running(true);
    } else if (e.type === "progress") {
      this.points.push([e.epoch, e.loss]);
    } else if (e.type === "epoch") {
      this.epochs.push(e);
    } else {
      // the end, after what was trained (which stays on screen)
      const end = e.type === "done" ? `Done in ${e.seconds.toFixed(1)} s: test accuracy ${e.test_acc.toFixed(4)}.`
        : e.type === "stopped" ? "Stopped." : `Training failed: ${e.message}`;
      status.textContent = this.described ? `${end} Trained ${this.described}` : end;
      this.running(false);
      if (this.source) { this.source.close(); this.source = null; }
    }
    this.render();
  }

  // The form shows the settings of the run on screen (a reopened page follows the last run, not the defaults).
  showSettings(settings) {
    for (const [name, value] of Object.entries(settings)) {
      const field = this.form.elements.namedItem(name);
      if (field) field.value = String(value);
    }
  }

  running(on) {
    this.q("start").disabled = on;
    this.q("stop").disabled = !on;
  }

  render() {
    const last = this.epochs[this.epochs.length - 1];
    this.q("epoch").textContent = this.total ? `${last ? last.epoch : 0} / ${this.total}` : "–";
    this.q("train-loss").textContent = last ? fmt(last.loss, 4) : "–";
    this.q("test-acc").textContent = last && last.test_acc !== null ? last.test_acc.toFixed(4) : "–";
    const xMax = this.total || 1;
    lineChart(this.q("loss-chart"), [
      {name: "loss (every few iterations)", color: "#6e7781", width: 1.2, points: this.points},
      // NOTE: an epoch's mean loss is the average over the whole epoch: drawn at its middle, not at its end
      {name: "mean loss of each epoch (at its middle)", color: "#0969da",
       points: this.epochs.map(e => [e.epoch - 0.5, e.loss])},
    ], {xLabel: "epoch", yLabel: "loss", xMax, yMin: 0});
    lineChart(this.q("acc-chart"), [
      {name: "train", color: "#0969da", points: this.epochs.map(e => [e.epoch, e.train_acc])},
      {name: "test", color: "#cf222e", points: this.epochs.filter(e => e.test_acc !== null).map(e => [e.epoch, e.test_acc])},
    ], {xLabel: "epoch", yLabel: "accuracy", xMax, yMin: 0, yMax: 1, legend: "bottom"});
  }
}

window.addEventListener("DOMContentLoaded", () => { window.zerogradTrain = new TrainPage(document.querySelector("main")); });
