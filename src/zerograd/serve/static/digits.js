// Draw a digit: strokes on a 280×280 canvas (white on black, as MNIST), sent as a PNG to /api/predict while you
// draw; the answer gives the class, the probabilities and the 28×28 image the net actually saw.
"use strict";

class DigitPad {
  constructor(root) {
    this.root = root;
    this.q = s => root.querySelector(`[data-testid=${s}]`);
    this.canvas = this.q("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.inFlight = false;   // one request at a time; a drawing that changed meanwhile is sent when it returns
    this.dirty = false;
    this.requests = 0;       // answered predictions, for scripts that wait on the page
    this.clear();
    this.canvas.addEventListener("pointerdown", e => this.start(e));
    this.canvas.addEventListener("pointermove", e => this.move(e));
    for (const kind of ["pointerup", "pointerleave", "pointercancel"]) {
      this.canvas.addEventListener(kind, () => { if (this.last) { this.last = null; this.changed(); } });
    }
    this.q("clear").addEventListener("click", () => this.clear());
    // the keyboard's way to the pad: a real test digit of the chosen class, drawn as ink, then predicted
    const examples = (readData("page-data") || {}).examples || [];
    const select = this.q("example");
    examples.forEach((d, i) => select.append(el("option", {value: String(i), text: `a ${d.label}`})));
    select.addEventListener("change", () => { if (select.value !== "") this.place(examples[+select.value].pixels); });
    fetch("/api/model").then(r => r.json()).then(m => { this.q("model-source").textContent = `The net: ${m.source}.`; })
      .catch(() => {});
  }

  place(pixels) {
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    drawImage28(small, pixels);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.changed();
  }

  clear() {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.q("prediction").textContent = "";
    this.q("probabilities").replaceChildren();
    this.q("latency").textContent = "";
    this.q("net-input").getContext("2d").clearRect(0, 0, 28, 28);
  }

  point(e) {
    const box = this.canvas.getBoundingClientRect();
    return {x: (e.clientX - box.left) * this.canvas.width / box.width,
            y: (e.clientY - box.top) * this.canvas.height / box.height};
  }
  start(e) {
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    this.line(this.last, this.last);
  }
  move(e) {
    if (!this.last) return;
    const p = this.point(e);
    this.line(this.last, p);
    this.last = p;
    this.changed();
  }
  line(a, b) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 20;  // about 2 of the 28 pixels, MNIST's stroke width
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  changed() {
    if (this.inFlight) { this.dirty = true; return; }
    this.send();
  }
  async send() {
    this.inFlight = true;
    this.dirty = false;
    const error = this.q("predict-error");
    try {
      const blob = await new Promise(resolve => this.canvas.toBlob(resolve, "image/png"));
      const started = performance.now();
      const response = await fetch("/api/predict", {method: "POST", headers: {"Content-Type": "image/png"}, body: blob});
      const body = await response.json();
      if (!response.ok) throw new Error(body.error);
      error.textContent = "";
      this.show(body, performance.now() - started);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      this.inFlight = false;
      if (this.dirty) this.send();
    }
  }
  show(result, ms) {
    this.q("prediction").textContent = result.class;
    barChart(this.q("probabilities"), result.classes, result.probabilities, result.index);
    drawImage28(this.q("net-input"), result.input);
    this.q("latency").textContent = `round trip ${ms.toFixed(0)} ms (the net: ${result.ms.toFixed(1)} ms)`;
    this.requests += 1;
    this.root.dataset.predictions = String(this.requests);
  }
}

window.addEventListener("DOMContentLoaded", () => { window.zerogradDigits = new DigitPad(document.querySelector("main")); });
