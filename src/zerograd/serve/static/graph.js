// The step-through computational graph: zerograd's JSON (serve/graphdata.py) drawn as SVG, values above the
// arrows, gradients in red under them, as chapter 5 draws its figures. Editing an input recomputes everything
// here (each node's kind says how), so the exported page works from file:// with no server.
// Lesson mode: the page opens before the forward pass; the keyboard steps it (keys in lesson.js).
"use strict";

// Forward value of each kind from its argument values xs (and the constant exponent p of "powc").
const FORWARD = {
  add: ([x, y]) => x + y, sub: ([x, y]) => x - y, neg: ([x]) => -x, mul: ([x, y]) => x * y,
  div: ([x, y]) => x / y, powc: ([x], p) => x ** p, pow: ([x, y]) => x ** y, exp: ([x]) => Math.exp(x),
  log: ([x]) => Math.log(x), sum: ([x]) => x, relu: ([x]) => Math.max(x, 0),
  sigmoid: ([x]) => 1 / (1 + Math.exp(-x)),
};
// Local derivatives ∂out/∂x_k, the same formulas as zerograd.graph.Value's backward functions.
const LOCAL = {
  add: () => [1, 1], sub: () => [1, -1], neg: () => [-1], mul: ([x, y]) => [y, x],
  div: ([x, y]) => [1 / y, -x / (y * y)], powc: ([x], p) => [p * x ** (p - 1)],
  pow: ([x, y], _p, out) => [y * x ** (y - 1), out * Math.log(x)], exp: (_xs, _p, out) => [out],
  log: ([x]) => [1 / x], sum: () => [1], relu: ([x]) => [x > 0 ? 1 : 0],
  sigmoid: (_xs, _p, out) => [(1 - out) * out],
};
// How a forward step reads, with the argument values a, b.
const FORMULA = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} − ${b}`, neg: a => `−${a}`, mul: (a, b) => `${a} × ${b}`,
  div: (a, b) => `${a} ÷ ${b}`, powc: (a, _b, p) => `${a} ** ${fmt(p)}`, pow: (a, b) => `${a} ** ${b}`,
  exp: a => `exp(${a})`, log: a => `log(${a})`, sum: a => `${a}`, relu: a => `relu(${a})`,
  sigmoid: a => `σ(${a})`,
};

const COL_W = 200, ROW_H = 100, LEFT = 110, TOP_MARGIN = 50, R = 21, FANOUT_GAP = 46, WAY_HALF = 30, RUN_DELAY_MS = 350;
// upright, the arrows leaving one node run side by side with a label on each side: they need more room
const VERTICAL_FANOUT_GAP = 96, NARROW_PX = 700;  // upright only on a screen this narrow (a phone)
// Where each kind of text sits from its point: [dx, dy, text-anchor] left to right, then upright. Left to right,
// values above an arrow and gradients under it; upright, values left of it and gradients right of it.
const ROLES = {
  fwd: [[0, -7, "middle"], [-7, 5, "end"]],
  bwd: [[0, 16, "middle"], [7, 5, "start"]],
  local: [[0, 31, "middle"], [7, 20, "start"]],
  leaf: [[0, 5, "end"], [0, -8, "middle"]],
  "leaf-sum": [[0, 24, "end"], [0, -28, "middle"]],
  op: [[0, 6, "middle"], [0, 6, "middle"]],
  "op-name": [[0, -R - 5, "middle"], [R + 5, -6, "start"]],
  "op-sum": [[0, R + 16, "middle"], [R + 5, 14, "start"]],
  output: [[6, 5, "start"], [0, 18, "middle"]],
};
const ROLE_CLASS = {"leaf-sum": "sum", "op-sum": "sum", "op-name": "name", output: "leaf", op: ""};

class GraphPage {
  constructor(spec, root) {
    this.root = root;
    this.load(spec);
    const on = (id, action) => root.querySelector(`[data-testid=${id}]`).addEventListener("click", action);
    on("step-forward", () => { this.stop(); this.stepForward(); });
    on("step-backward", () => { this.stop(); this.stepBackward(); });
    on("step-back", () => { this.stop(); this.stepBack(); });
    on("run", () => this.run());
    on("reset", () => { this.stop(); this.reset(); });
    window.addEventListener("resize", () => this.renderSvg());  // a phone turned: perhaps the other layout
  }

  // What the lesson's keys do (lesson.js): → / Space the next step of the lesson, forward then on into the backward
  // pass; Shift+→ the next backward step; ← one step back; R back to the start.
  next() { if (this.fwd < this.spec.forward.length) this.stepForward(); else this.stepBackward(); }
  // the control to hold the focus: the one a teacher presses next
  nextControl() {
    const id = this.fwd < this.spec.forward.length ? "step-forward" : this.bwd < this.steps.length ? "step-backward"
      : "reset";
    return this.root.querySelector(`[data-testid=${id}]`);
  }

  load(spec) {
    this.stop();
    this.spec = spec;
    this.nodes = new Map(spec.nodes.map(n => [n.id, n]));
    this.inEdges = new Map(spec.nodes.map(n => [n.id, []]));
    this.outEdges = new Map(spec.nodes.map(n => [n.id, []]));
    for (const e of spec.edges) { this.inEdges.get(e.target).push(e); this.outEdges.get(e.source).push(e); }
    for (const list of this.inEdges.values()) list.sort((a, b) => a.arg - b.arg);
    // room above the first row for the arrows of a node used several times, which start spread out
    this.fanout = Math.max(1, ...[...this.outEdges.values()].map(list => list.length));
    this.top = TOP_MARGIN + (this.fanout - 1) / 2 * FANOUT_GAP;
    this.steps = ["seed", ...spec.backward];  // backward step 0 starts at the output with ∂out/∂out = 1
    this.values = new Map(spec.nodes.map(n => [n.id, n.value]));
    this.fwd = 0;                    // forward steps shown: the lesson opens before the forward pass
    this.bwd = 0;                    // backward steps shown
    this.current = null;             // {phase, id} of the step just taken, highlighted
    this.buildInputs();
    this.buildTable();
    this.compute();
    this.render();
  }

  buildInputs() {
    const box = this.root.querySelector("#inputs");
    box.replaceChildren();
    for (const n of this.spec.nodes) {
      if (!n.editable) continue;
      const input = el("input", {type: "number", step: "any", value: String(n.value), testid: `input-${n.name}`,
                                 id: `input-${n.name}`, "aria-label": n.name});
      input.addEventListener("input", () => {
        const v = parseFloat(input.value);
        input.classList.toggle("bad", !Number.isFinite(v));
        if (!Number.isFinite(v)) return;
        this.stop();
        this.values.set(n.id, v);
        // the lesson stays where it is: the steps shown so far, with the new numbers (the status line too)
        this.edited = n.name;
        this.compute();
        this.render();
        this.edited = null;
      });
      box.append(el("label", {for: `input-${n.name}`}, el("span", {text: n.name}), input));
    }
  }

  buildTable() {
    const body = this.root.querySelector("#node-table tbody");
    body.replaceChildren();
    for (const n of this.spec.nodes) {
      const key = n.name || n.id;  // unnamed nodes (constants, intermediate results) by their id: value-n3
      body.append(el("tr", {id: `row-${n.id}`},
        el("td", {text: n.display}),
        el("td", {text: n.kind === "leaf" ? (n.name ? "input" : "constant") : n.label}),
        el("td", {class: "num", testid: `value-${key}`}),
        el("td", {class: "num grad", testid: `grad-${key}`}),
        el("td", {class: "parts", testid: `grad-parts-${key}`})));
    }
  }

  // Forward over spec.forward, then the whole backward pass; what is shown depends on this.fwd / this.bwd.
  compute() {
    for (const id of this.spec.forward) {
      const n = this.nodes.get(id);
      const xs = this.inEdges.get(id).map(e => this.values.get(e.source));
      this.values.set(id, FORWARD[n.kind](xs, n.p));
    }
    this.edgeGrad = new Map();
    this.edgeLocal = new Map();
    this.grad = new Map([[this.spec.output, 1]]);  // the arriving gradient of each node, once complete
    const parts = new Map(this.spec.nodes.map(n => [n.id, []]));
    for (const id of this.spec.backward) {
      const n = this.nodes.get(id);
      const edges = this.inEdges.get(id);
      const xs = edges.map(e => this.values.get(e.source));
      const g = this.grad.get(id);
      const local = LOCAL[n.kind](xs, n.p, this.values.get(id));
      edges.forEach((e, k) => {
        this.edgeLocal.set(e.id, local[k]);
        this.edgeGrad.set(e.id, g * local[k]);
        parts.get(e.source).push(e);
        // a node used by several others adds up what each sends back (the chain rule's sum)
        this.grad.set(e.source, (this.grad.get(e.source) || 0) + g * local[k]);
      });
    }
    this.parts = parts;
  }

  edgeValueShown(e) {
    const src = this.nodes.get(e.source);
    return src.kind === "leaf" || this.spec.forward.indexOf(e.source) < this.fwd;
  }
  edgeGradShown(e) { return this.steps.indexOf(e.target) < this.bwd; }
  nodeValueShown(id) { return this.nodes.get(id).kind === "leaf" || this.spec.forward.indexOf(id) < this.fwd; }
  // The gradient of a node as far as the backward pass has got: the sum of the contributions shown so far.
  shownGrad(id) {
    if (id === this.spec.output) return this.bwd >= 1 ? {total: 1, parts: [], complete: true} : null;
    const shown = this.parts.get(id).filter(e => this.edgeGradShown(e));
    if (!shown.length) return null;
    return {total: shown.reduce((s, e) => s + this.edgeGrad.get(e.id), 0), parts: shown,
            complete: shown.length === this.parts.get(id).length};
  }

  stepForward() {
    if (this.fwd >= this.spec.forward.length) return;
    this.current = {phase: "forward", id: this.spec.forward[this.fwd]};
    this.fwd += 1;
    this.render();
  }
  stepBackward() {
    if (this.fwd < this.spec.forward.length || this.bwd >= this.steps.length) return;
    this.current = {phase: "backward", id: this.steps[this.bwd]};
    this.bwd += 1;
    this.render();
  }
  // One step back: the last step taken is undone, the one before it highlighted again.
  stepBack() {
    if (lessonStepBack(this, this.spec.forward)) this.render();
  }
  reset() { this.fwd = 0; this.bwd = 0; this.current = null; this.render(); }
  done() { return this.fwd >= this.spec.forward.length && this.bwd >= this.steps.length; }
  // Run: the rest of the lesson, one step every RUN_DELAY_MS; from the start again once both passes are done.
  run() {
    this.stop();
    if (this.done()) this.reset();
    const tick = () => {
      this.next();
      this.timer = this.done() ? null : setTimeout(tick, RUN_DELAY_MS);
    };
    tick();
  }
  stop() { if (this.timer) { clearTimeout(this.timer); this.timer = null; } }

  // -- drawing --------------------------------------------------------------------------------------------------

  pos(id) {
    const n = this.nodes.get(id);
    return {x: LEFT + n.column * COL_W, y: this.top + n.row * ROW_H};
  }
  anchorOut(id) {
    const p = this.pos(id);
    return this.nodes.get(id).kind === "leaf" ? {x: p.x + 4, y: p.y} : {x: p.x + R, y: p.y};
  }

  render() {
    this.renderSvg();
    keepInView(this.root.querySelector("#graph .hot"));
    this.renderTable();
    this.renderStatus();
    this.renderDescription();
    const q = s => this.root.querySelector(`[data-testid=${s}]`);
    const focused = document.activeElement;
    q("step-forward").disabled = this.fwd >= this.spec.forward.length;
    q("step-backward").disabled = this.fwd < this.spec.forward.length || this.bwd >= this.steps.length;
    q("step-back").disabled = this.fwd === 0 && this.bwd === 0;
    q("step-counter").textContent =
      `forward ${this.fwd}/${this.spec.forward.length} · backward ${this.bwd}/${this.steps.length}`;
    // NOTE: a focused button that disables drops the focus to <body>; hand it to the control pressed next instead
    if (focused && focused.disabled) this.nextControl().focus();
  }

  // The graph as text for screen readers (the svg's aria-describedby): every node with what is known of it so far.
  renderDescription() {
    const list = this.root.querySelector("#graph-description");
    if (!list) return;
    list.replaceChildren(...this.spec.nodes.map(n => {
      const what = n.kind === "leaf" ? (n.name ? "input" : "constant")
        : `${n.label} of ${this.inEdges.get(n.id).map(e => this.name(e.source)).join(" and ")}`;
      const value = this.nodeValueShown(n.id) ? `value ${fmt(this.values.get(n.id))}` : "value not computed yet";
      const g = this.shownGrad(n.id);
      const grad = g ? `, ${this.d(n.id)} ${g.complete ? "=" : "so far"} ${fmt(g.total)}` : "";
      return el("li", {text: `${this.name(n.id)} (${what}): ${value}${grad}`});
    }));
  }

  renderSvg() {
    const svg = this.root.querySelector("#graph");
    svg.replaceChildren();
    arrowMarker(svg, "arrow", "#333");
    arrowMarker(svg, "arrow-hot", HOT);
    const cols = Math.max(...this.spec.nodes.map(n => n.column)) + 1;
    const rows = Math.max(...this.spec.nodes.map(n => n.row)) + 1;
    // Left to right as the book draws it; top to bottom on a screen too narrow for that at readable labels
    const box = svg.parentElement.clientWidth || Infinity;
    const across = gap => TOP_MARGIN + (this.fanout - 1) * gap + (rows - 1) * ROW_H + 64;
    const along = LEFT + (cols - 1) * COL_W + 200;
    const vertical = box < NARROW_PX && along * MIN_LABEL_PX / SMALLEST_LABEL > box &&
      across(VERTICAL_FANOUT_GAP) + 60 < along;
    const gap = vertical ? VERTICAL_FANOUT_GAP : FANOUT_GAP;
    this.top = TOP_MARGIN + (this.fanout - 1) / 2 * gap;
    const [width, height] = vertical ? [across(gap) + 60, along] : [along, across(gap)];
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.dataset.layout = vertical ? "vertical" : "horizontal";
    fitToBox(svg, width, height);
    const cur = this.current;
    const hotEdges = new Set(cur ? this.inEdges.get(cur.id) ? this.inEdges.get(cur.id).map(e => e.id) : [] : []);
    // Everything is placed in the left-to-right coordinates (x along the flow, y across it). Upright, the shapes are
    // mirrored on the diagonal by one transform, and each text is put beside its point by its role (ROLES).
    const shapes = vertical ? svgEl("g", {transform: "matrix(0 1 1 0 0 0)"}) : svg;
    if (vertical) svg.append(shapes);
    const text = (x, y, role, content, cls = ROLE_CLASS[role] || role) => {
      const [dx, dy, anchor] = ROLES[role][vertical ? 1 : 0];
      const [sx, sy] = vertical ? [y, x] : [x, y];
      return svgEl("text", {x: sx + dx, y: sy + dy, "text-anchor": anchor, class: cls}, content);
    };

    const label = (x, y, e, value, grad, local) => {
      const g = svgEl("g", {class: "edge-label"});
      if (value !== null) g.append(text(x, y, "fwd", value));
      if (grad !== null) g.append(text(x, y, "bwd", grad));
      if (local !== null) g.append(text(x, y, "local", local));
      if (e) g.setAttribute("data-edge", e);
      svg.append(g);
    };

    for (const e of this.spec.edges) {
      // As the book draws it: each arrow leaves its source level, carrying its labels above and below, then bends
      // into its target. Arrows leaving one node (a node used twice) start a little apart, so labels never meet.
      const siblings = this.outEdges.get(e.source).slice().sort((p, q) => this.pos(p.target).y - this.pos(q.target).y);
      const i = siblings.indexOf(e);
      const a0 = this.anchorOut(e.source);
      const a = {x: a0.x, y: a0.y + (i - (siblings.length - 1) / 2) * gap};
      const b = this.pos(e.target), bx = b.x - R - 2;
      // level stretches: the labelled one after the source, one through each waypoint, the arrival at the target
      const ways = (e.waypoints || []).map(([c, r]) => ({x: LEFT + c * COL_W, y: this.top + r * ROW_H}));
      const firstEnd = ways.length ? ways[0].x - WAY_HALF : bx;
      const k = a.x + 0.55 * (firstEnd - a.x);
      const level = [[a.x + 6, k, a.y], ...ways.map(w => [w.x - WAY_HALF, w.x + WAY_HALF, w.y]), [bx, bx, b.y]];
      let d = `M${a0.x},${a0.y} L${level[0][0]},${level[0][2]} L${level[0][1]},${level[0][2]}`;
      for (let j = 1; j < level.length; j++) {
        const [x1, , y1] = [level[j - 1][1], 0, level[j - 1][2]], [x2, x3, y2] = level[j];
        const m = (x1 + x2) / 2;
        d += y1 === y2 ? ` L${x2},${y2}` : ` C${m},${y1} ${m},${y2} ${x2},${y2}`;
        if (x3 > x2) d += ` L${x3},${y2}`;
      }
      const hot = hotEdges.has(e.id);
      shapes.append(svgEl("path", {d, class: "edge" + (hot ? " hot" : ""), "marker-end": `url(#${hot ? "arrow-hot" : "arrow"})`}));
      const value = this.edgeValueShown(e) ? fmt(this.values.get(e.source)) : null;
      const grad = this.edgeGradShown(e) ? fmt(this.edgeGrad.get(e.id)) : null;
      const local = hot && cur.phase === "backward" ? `×${fmt(this.edgeLocal.get(e.id))}` : null;
      label((a.x + k) / 2, a.y, e.id, value, grad, local);
    }
    // the output arrow, to the output's name
    const out = this.pos(this.spec.output), end = out.x + R + 110;
    shapes.append(svgEl("path", {d: `M${out.x + R},${out.y} L${end},${out.y}`, class: "edge", "marker-end": "url(#arrow)"}));
    svg.append(text(end, out.y, "output", this.spec.output_label));
    label((out.x + R + end) / 2, out.y, "output",
          this.nodeValueShown(this.spec.output) ? fmt(this.values.get(this.spec.output)) : null,
          this.bwd >= 1 ? "1" : null, null);

    for (const n of this.spec.nodes) {
      const p = this.pos(n.id);
      const hot = cur && cur.id === n.id;
      // a node that feeds several others: its gradient is the sum of what each sends back, written out
      const sofar = this.parts.get(n.id).length > 1 ? this.shownGrad(n.id) : null;
      if (sofar) {
        const sum = sofar.parts.map(e => fmt(this.edgeGrad.get(e.id))).join(" + ") +
          (sofar.complete ? ` = ${fmt(sofar.total)}` : " + …");
        svg.append(text(p.x, p.y, n.kind === "leaf" ? "leaf-sum" : "op-sum", sum));
      }
      if (n.kind === "leaf") {
        svg.append(text(p.x, p.y, "leaf", n.label, "leaf" + (hot ? " hot" : "")));
        continue;
      }
      // a node whose own backward has a wrong local derivative (serve/graphdata.py asks zerograd.diagnose)
      const g = svgEl("g", {class: "op" + (hot ? " hot" : "") + (n.wrong ? " wrong" : ""), "data-node": n.id});
      if (n.wrong) g.append(svgEl("title", {}, n.wrong.map(w => w.explanation).join("\n")));
      const [cx, cy] = vertical ? [p.y, p.x] : [p.x, p.y];
      g.append(svgEl("circle", {cx, cy, r: R}));
      g.append(text(p.x, p.y, "op", n.label, n.label.length > 2 ? "small" : ""));
      if (n.name && n.id !== this.spec.output) g.append(text(p.x, p.y, "op-name", n.name));
      svg.append(g);
    }
  }

  renderTable() {
    for (const n of this.spec.nodes) {
      const q = s => this.root.querySelector(`[data-testid="${s}-${n.name || n.id}"]`);
      q("value").textContent = this.nodeValueShown(n.id) ? fmt(this.values.get(n.id)) : "";
      const g = this.shownGrad(n.id);
      q("grad").textContent = g ? fmt(g.total) : "";
      q("grad-parts").textContent = g && g.parts.length > 1
        ? g.parts.map(e => fmt(this.edgeGrad.get(e.id))).join(" + ") + ` = ${fmt(g.total)}` +
          ` (${n.display} feeds ${this.parts.get(n.id).length} nodes: their gradients add up)`
        : (g && !g.complete ? `1 of ${this.parts.get(n.id).length} contributions so far` : "");
      const row = this.root.querySelector(`#row-${n.id}`);
      row.classList.toggle("hot", !!(this.current && this.current.id === n.id));
    }
  }

  name(id) { return this.nodes.get(id).display; }
  // ∂price/∂apple_price, ∂f/∂(x·y): the derivative of the output with respect to a node
  d(id) {
    const name = this.name(id);
    return `∂${this.spec.output_label}/∂${/^[\w.]+$/.test(name) ? name : `(${name})`}`;
  }

  renderStatus() {
    const status = this.root.querySelector("[data-testid=status]");
    const cur = this.current;
    const warnings = id => (this.nodes.get(id).wrong || []).map(w =>
      el("div", {class: "wrong", text: `Wrong local derivative: ${w.explanation} (${w.evidence}).`}));
    const edited = this.edited ? `${this.edited} changed: ` : "";
    if (!cur) {
      status.textContent = edited + (this.fwd === 0
        ? "Only the inputs are known. Press → or Space (or Step forward) to compute the graph node by node; " +
          "? lists the keys."
        : "The forward pass is done: values are above the arrows. Step backward to pass gradients back, node by node.");
      status.append(...this.spec.nodes.flatMap(n => warnings(n.id)));
      return;
    }
    const n = this.nodes.get(cur.id);
    if (cur.phase === "forward") {
      const args = this.inEdges.get(cur.id).map(e => fmt(this.values.get(e.source)));
      const then = this.fwd === this.spec.forward.length
        ? " The forward pass is done: press → or Shift+→ (Step backward) to pass the gradients back." : "";
      status.textContent = `${edited}Forward ${this.fwd}/${this.spec.forward.length}: ${this.name(cur.id)} = ` +
        `${FORMULA[n.kind](args[0], args[1], n.p)} = ${fmt(this.values.get(cur.id))}.${then}`;
      return;
    }
    if (cur.id === "seed") {
      status.textContent = `${edited}Backward 1/${this.steps.length}: start at the output with ` +
        `∂${this.spec.output_label}/∂${this.spec.output_label} = 1 (the book's dout = 1).`;
      return;
    }
    const g = this.grad.get(cur.id);
    const arriving = this.parts.get(cur.id).length > 1
      ? `${this.parts.get(cur.id).map(e => fmt(this.edgeGrad.get(e.id))).join(" + ")} = ${fmt(g)} (the sum of ` +
        `what the nodes it feeds sent back)`
      : fmt(g);
    const lines = [`${edited}Backward ${this.bwd}/${this.steps.length}: the ${n.label} node ${this.name(cur.id)} ` +
                   `receives ${this.d(cur.id)} = ${arriving}.`];
    for (const e of this.inEdges.get(cur.id)) {
      const src = this.name(e.source);
      lines.push(`To ${src}: ${withValue(e.local, this.edgeLocal.get(e.id))}, so it sends ` +
                 `${fmt(g)} × ${fmt(this.edgeLocal.get(e.id))} = ${fmt(this.edgeGrad.get(e.id))} back.`);
    }
    if (this.done()) lines.push(this.summary());
    status.replaceChildren(...lines.map(line => el("div", {text: line})), ...warnings(cur.id));
  }

  // The last step's sum-up: "All inputs: ∂price/∂apple 2.2, ∂apple_num 110, ∂tax 200."
  summary() {
    const inputs = this.spec.nodes.filter(n => n.kind === "leaf" && n.name);
    const parts = inputs.map((n, i) => `${i === 0 ? this.d(n.id) : `∂${n.name}`} ${fmt(this.grad.get(n.id) || 0)}`);
    return `All inputs: ${parts.join(", ")}. R starts the lesson again.`;
  }
}

// A local derivative's formula with its value: "∂(apple_price·tax)/∂tax = apple_price = 200", but "∂(a + b)/∂a = 1"
// where the formula already ends in that number (no "= 1 = 1").
function withValue(formula, value) {
  const last = formula.split(" = ").pop().replace("−", "-");
  return Number(last) === value ? formula : `${formula} = ${fmt(value)}`;
}

// The served expression page: type a formula, the server (zerograd's parser) returns its graph.
function setUpExpressionForm(page) {
  const form = document.getElementById("expr-form");
  if (!form || !page.spec.expression || location.protocol === "file:") return;
  form.hidden = false;
  const input = form.querySelector("[data-testid=expression]");
  const error = form.querySelector("[data-testid=expression-error]");
  input.value = page.spec.expression;
  form.addEventListener("submit", async event => {
    event.preventDefault();
    error.textContent = "";
    const values = {};
    for (const n of page.spec.nodes) if (n.editable) values[n.name] = page.values.get(n.id);
    const response = await fetch("/api/graph/expr", {method: "POST", headers: {"Content-Type": "application/json"},
                                                      body: JSON.stringify({expr: input.value, values})});
    const body = await response.json();
    if (!response.ok) { error.textContent = body.error; return; }
    page.load(body);
    document.querySelector("h1").textContent = body.title;
  });
}

window.addEventListener("DOMContentLoaded", () => {
  const page = new GraphPage(readData("page-data"), document.querySelector("main"));
  window.zerogradGraph = page;  // for scripts and tests: page.values, page.grad
  lessonKeys(page, document.querySelector("main"));
  setUpExpressionForm(page);
});
