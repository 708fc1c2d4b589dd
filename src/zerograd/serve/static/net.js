// The layer view of TwoLayerNet on one digit: boxes for the layers, array shapes above the arrows, gradient norms in
// red under them; step forward and backward layer by layer; apply SGD steps and watch the loss drop.
// Views come from zerograd (serve/netdata.py): fetched from the server, or precomputed in an exported page.
"use strict";

const NET_COL_W = 262, NET_ROW_H = 150, NET_LEFT = 130, NET_TOP = 90, BOX_W = 166, PARAM_H = 48, NET_RUN_DELAY_MS = 450;

class NetPage {
  constructor(data, root) {
    this.data = data;
    this.root = root;
    this.view = data.view;
    this.history = [data.view.loss];
    this.fwd = 0;  // the lesson opens before the forward pass, as the graph pages do
    this.bwd = 0;
    this.current = null;
    this.steps = ["seed", ...data.backward];
    const q = s => root.querySelector(`[data-testid=${s}]`);
    this.q = q;
    const select = q("digit");
    for (const d of data.digits) {
      select.append(el("option", {value: String(d.index), text: `a ${d.label} (test digit #${d.index})`}));
    }
    select.value = String(this.view.index);
    select.addEventListener("change", () => this.show(parseInt(select.value, 10), 0, true));
    q("step-forward").addEventListener("click", () => { this.stop(); this.stepForward(); });
    q("step-backward").addEventListener("click", () => { this.stop(); this.stepBackward(); });
    q("run").addEventListener("click", () => this.run());
    q("reset").addEventListener("click", () => { this.stop(); this.reset(); });
    q("step-back").addEventListener("click", () => { this.stop(); this.stepBack(); });
    q("sgd-step").addEventListener("click", () => this.show(this.view.index, this.view.steps + 1, false));
    q("sgd-reset").addEventListener("click", () => this.show(this.view.index, 0, true));
    this.render();
  }

  async fetchView(index, steps) {
    if (this.data.views) {
      const view = this.data.views[`${index}:${steps}`];
      if (!view) throw new Error(`this saved page holds ${this.data.max_steps} SGD steps; run zerograd serve for more`);
      return view;
    }
    const response = await fetch("/api/graph/net", {method: "POST", headers: {"Content-Type": "application/json"},
                                                     body: JSON.stringify({digit: index, steps})});
    const body = await response.json();
    if (!response.ok) throw new Error(body.error);
    return body;
  }

  async show(index, steps, restart) {
    this.stop();
    const error = this.q("net-error");
    error.textContent = "";
    try {
      this.view = await this.fetchView(index, steps);
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    if (restart) { this.history = []; this.bwd = 0; this.current = null; }
    this.history.push(this.view.loss);
    this.fwd = this.data.forward.length;  // the new weights' forward pass is done; gradients shown as far as before
    this.render();
  }

  stepForward() {
    if (this.fwd >= this.data.forward.length) return;
    this.current = {phase: "forward", id: this.data.forward[this.fwd]};
    this.fwd += 1;
    this.render();
  }
  stepBackward() {
    if (this.fwd < this.data.forward.length || this.bwd >= this.steps.length) return;
    this.current = {phase: "backward", id: this.steps[this.bwd]};
    this.bwd += 1;
    this.render();
  }
  // the lesson keys (lesson.js): the next step, forward then backward; one step back; back to the start
  next() { if (this.fwd < this.data.forward.length) this.stepForward(); else this.stepBackward(); }
  stepBack() {
    if (lessonStepBack(this, this.data.forward)) this.render();
  }
  reset() { this.fwd = 0; this.bwd = 0; this.current = null; this.render(); }
  nextControl() {
    return ["step-forward", "step-backward", "reset"].map(this.q).find(b => !b.disabled);
  }
  done() { return this.fwd >= this.data.forward.length && this.bwd >= this.steps.length; }
  // Run: the rest of the passes, a step every NET_RUN_DELAY_MS; from the start again once both are done.
  run() {
    this.stop();
    if (this.done()) this.reset();
    const tick = () => {
      this.next();
      this.timer = this.done() ? null : setTimeout(tick, NET_RUN_DELAY_MS);
    };
    tick();
  }
  stop() { if (this.timer) { clearTimeout(this.timer); this.timer = null; } }

  layerDone(name, phase) {
    const list = phase === "forward" ? this.data.forward : this.steps;
    const i = list.indexOf(name);
    return i >= 0 && i < (phase === "forward" ? this.fwd : this.bwd);
  }
  arrowValueShown(a) { return a.source === "x" || a.source === "t" || this.layerDone(a.source, "forward"); }
  arrowGradShown(a) {
    if (a.target === "loss") return this.bwd >= 1;
    return a.grad_norm !== null && this.layerDone(a.target, "backward");
  }

  render() {
    this.renderSvg();
    keepInView(this.root.querySelector("#net .layer.hot"));
    this.renderPanel();
    this.renderStatus();
    this.renderDescription();
    this.q("step-forward").disabled = this.fwd >= this.data.forward.length;
    this.q("step-backward").disabled = this.fwd < this.data.forward.length || this.bwd >= this.steps.length;
    this.q("step-counter").textContent =
      `forward ${this.fwd}/${this.data.forward.length} · backward ${this.bwd}/${this.steps.length}`;
    this.q("step-back").disabled = this.fwd === 0 && this.bwd === 0;
    // NOTE: a focused button that disables drops the focus to <body>; hand it on to the next useful control
    const focused = document.activeElement;
    if (focused && focused.disabled) this.nextControl().focus();
  }

  box(name) {
    const [c, r] = this.data.places[name];
    const info = this.view.layers.find(l => l.name === name);
    const h = info ? 34 + PARAM_H * info.params.length : 24;
    // boxes are centred on their row's line, so arrows between boxes of different heights run level
    // column 0 holds the label x alone: a narrow column
    const x = c === 0 ? 30 : NET_LEFT + (c - 1) * NET_COL_W;
    return {x, y: NET_TOP + r * NET_ROW_H - h / 2, h, info};
  }

  renderSvg() {
    const svg = this.root.querySelector("#net");
    svg.replaceChildren();
    arrowMarker(svg, "arrow", "#333");
    arrowMarker(svg, "arrow-hot", HOT);
    const places = Object.values(this.data.places);
    const width = NET_LEFT + (Math.max(...places.map(p => p[0])) - 1) * NET_COL_W + 70;
    const height = NET_TOP + Math.max(...places.map(p => p[1])) * NET_ROW_H + 80;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    fitToBox(svg, width, height);
    const cur = this.current;
    const rightOf = name => {
      const b = this.box(name);
      return b.info ? {x: b.x + BOX_W, y: b.y + b.h / 2} : {x: b.x + 14, y: b.y + b.h / 2};
    };
    const leftOf = name => {
      const b = this.box(name);
      return b.info ? {x: b.x - 2, y: b.y + b.h / 2} : {x: b.x - 6, y: b.y + b.h / 2};
    };
    for (const a of this.view.arrows) {
      const p = rightOf(a.source), q = leftOf(a.target);
      const hot = cur && cur.id === a.target && cur.phase === "backward";
      const k = p.x + 0.7 * (q.x - p.x), m = (k + q.x) / 2;
      const d = p.y === q.y ? `M${p.x},${p.y} L${q.x},${q.y}` : `M${p.x},${p.y} L${k},${p.y} C${m},${p.y} ${m},${q.y} ${q.x},${q.y}`;
      svg.append(svgEl("path", {d, class: "edge" + (hot ? " hot" : ""), "marker-end": `url(#${hot ? "arrow-hot" : "arrow"})`}));
      // labels start just after the box they leave, so a long one never runs back over it
      const lx = p.x + 8, g = svgEl("g", {class: "edge-label"});
      const top = a.value !== null ? fmt(a.value, 5) : `(${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""})`;
      if (this.arrowValueShown(a)) g.append(svgEl("text", {x: lx, y: p.y - 7, "text-anchor": "start", class: "fwd"}, top));
      if (this.arrowGradShown(a)) {
        const text = a.target === "loss" ? "1" : `‖g‖ ${fmt(a.grad_norm, 4)}`;
        g.append(svgEl("text", {x: lx, y: p.y + 16, "text-anchor": "start", class: "bwd"}, text));
      }
      svg.append(g);
    }
    for (const name of Object.keys(this.data.places)) {
      const b = this.box(name);
      if (!b.info) {
        svg.append(svgEl("text", {x: name === "loss" ? b.x : b.x + 10, y: b.y + b.h / 2 + 5, class: "leaf",
                                  "text-anchor": name === "loss" ? "start" : "end"}, name));
        continue;
      }
      const hot = cur && cur.id === name;
      const g = svgEl("g", {class: "layer" + (hot ? " hot" : ""), "data-layer": name});
      g.append(svgEl("rect", {x: b.x, y: b.y, width: BOX_W, height: b.h, rx: 8}));
      g.append(svgEl("text", {x: b.x + 12, y: b.y + 21, class: "title"}, name));
      // three lines a parameter, 12 units in from the border: its shape, its norm, its gradient's after backward
      b.info.params.forEach((p, i) => {
        const y = b.y + 42 + PARAM_H * i;
        g.append(svgEl("text", {x: b.x + 12, y, class: "param"}, `${p.name} (${p.shape.join(", ")}${p.shape.length === 1 ? "," : ""})`));
        g.append(svgEl("text", {x: b.x + 12, y: y + 15, class: "param"}, `‖${p.name}‖ ${fmt(p.norm, 4)}`));
        if (this.layerDone(name, "backward")) {
          g.append(svgEl("text", {x: b.x + 12, y: y + 30, class: "pgrad"}, `‖d${p.name}‖ ${fmt(p.grad_norm, 4)}`));
        }
      });
      svg.append(g);
    }
  }

  // The layers as text for screen readers (the svg's aria-describedby), as far as the passes have got.
  renderDescription() {
    const shape = a => `(${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""})`;
    this.root.querySelector("#net-description").replaceChildren(...this.view.layers.map(layer => {
      const into = this.view.arrows.find(a => a.target === layer.name && a.source !== "t");
      const out = this.view.arrows.find(a => a.source === layer.name);
      const parts = [`${layer.name} (${layer.kind}): takes ${shape(into)}`];
      if (this.layerDone(layer.name, "forward")) {
        parts.push(out.value !== null ? `gives the loss ${fmt(out.value, 5)}` : `gives ${shape(out)}`);
      }
      for (const p of layer.params) {
        parts.push(`${p.name} ${shape(p)} of norm ${fmt(p.norm, 4)}` +
                   (this.layerDone(layer.name, "backward") ? `, gradient norm ${fmt(p.grad_norm, 4)}` : ""));
      }
      if (this.arrowGradShown(into)) parts.push(`sends back a gradient of norm ${fmt(into.grad_norm, 4)}`);
      return el("li", {text: parts.join("; ")});
    }));
  }

  renderPanel() {
    const v = this.view;
    const digit = this.data.digits.find(d => d.index === v.index);
    drawImage28(this.q("digit-image"), digit.pixels);
    this.q("label").textContent = String(v.label);
    this.q("net-prediction").textContent = String(v.predicted);
    this.q("net-loss").textContent = fmt(v.loss, 5);
    this.q("sgd-steps").textContent = String(v.steps);
    this.q("loss-history").textContent = this.history.map(l => fmt(l, 4)).join(" → ");
    this.q("sgd-step").disabled = v.steps >= this.data.max_steps;
    // out of steps: say so, and how to get more (never a button that silently stops working)
    this.q("sgd-limit").textContent = v.steps < this.data.max_steps ? ""
      : this.data.views ? `This saved page holds ${this.data.max_steps} SGD steps; export it with ` +
        "zerograd graph net --html FILE --steps N for more (up to 50), or open it from zerograd serve."
      : `That is the server's limit of ${this.data.max_steps} steps; "Back to the initial weights" starts again.`;
    barChart(this.q("net-probabilities"), [...Array(10).keys()].map(String), v.probabilities, v.predicted);
    const body = this.root.querySelector("#param-table tbody");
    body.replaceChildren();
    for (const layer of v.layers) {
      for (const p of layer.params) {
        const shown = this.layerDone(layer.name, "backward");
        body.append(el("tr", {},
          el("td", {text: p.name}), el("td", {text: `(${p.shape.join(", ")}${p.shape.length === 1 ? "," : ""})`}),
          el("td", {class: "num", testid: `norm-${p.name}`, text: fmt(p.norm, 5)}),
          el("td", {class: "num grad", testid: `grad-norm-${p.name}`, text: shown ? fmt(p.grad_norm, 5) : ""})));
      }
    }
  }

  renderStatus() {
    const status = this.q("status"), cur = this.current;
    if (!cur) {
      const mode = this.view.mode === "inference"
        ? " The net runs in inference mode: BatchNorm with its running statistics, every Dropout unit kept." : "";
      status.textContent = (this.fwd === 0 ? "Reset: step forward through the layers, or Run."
        : "Forward pass done (array shapes above the arrows). Step backward to pass the gradient back, layer by " +
          "layer.") + mode;
      return;
    }
    if (cur.id === "seed") {
      status.textContent = `Backward 1/${this.steps.length}: start at the loss with dL/dL = 1.`;
      return;
    }
    const [fwdFormula, bwdFormula] = this.data.formulas[cur.id];
    const layer = this.view.layers.find(l => l.name === cur.id);
    if (cur.phase === "forward") {
      const out = this.view.arrows.find(a => a.source === cur.id);
      status.textContent = `Forward ${this.fwd}/${this.data.forward.length}: ${cur.id}: ${fwdFormula} → ` +
        (out.value !== null ? `loss ${fmt(out.value, 5)}` : `shape (${out.shape.join(", ")})`);
      return;
    }
    const dx = this.view.arrows.find(a => a.target === cur.id && a.grad_norm !== null && a.source !== "t");
    const params = layer.params.map(p => `‖d${p.name}‖ = ${fmt(p.grad_norm, 4)}`).join(", ");
    status.textContent = `Backward ${this.bwd}/${this.steps.length}: ${cur.id}: ${bwdFormula}.  ` +
      `‖dx‖ = ${fmt(dx.grad_norm, 4)}` + (params ? `, ${params}` : "");
  }
}

window.addEventListener("DOMContentLoaded", () => {
  window.zerogradNet = new NetPage(readData("page-data"), document.querySelector("main"));
  lessonKeys(window.zerogradNet, document.querySelector("main"));
});
