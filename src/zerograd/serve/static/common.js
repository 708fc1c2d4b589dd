// Helpers shared by zerograd's pages: number formatting, SVG elements, bar and line charts.
// Plain browser JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const HOT = "#b45309";  // the highlight colour: 5.0:1 on white, as WCAG AA asks of small text (4.5:1)
// The smallest text in a drawing, in its own units (style.css), and the smallest it may be drawn on screen, in px.
const SMALLEST_LABEL = 13, MIN_LABEL_PX = 12;

// Scale a drawing by its viewBox to the width of its box, from MIN_LABEL_PX / SMALLEST_LABEL (its box scrolls
// sideways when even that is too wide, as on a phone) up to 1.5 (a projector).
function fitToBox(svg, width, height) {
  const box = svg.parentElement.clientWidth || width;
  const scale = Math.min(1.5, Math.max(MIN_LABEL_PX / SMALLEST_LABEL, box / width));
  svg.style.width = `${Math.ceil(width * scale)}px`;
  svg.style.height = `${Math.ceil(height * scale)}px`;
  svg.dataset.scale = scale.toFixed(3);
  if (!svg.fitted) {  // redrawn at the new width when the window changes
    svg.fitted = true;
    window.addEventListener("resize", () => fitToBox(svg, ...svg.getAttribute("viewBox").split(" ").slice(2).map(Number)));
  }
}

// A number as zerograd.graph.format_number writes it: 6 significant digits as Python's "%.6g", no trailing
// zeros, exponent without padding ("1e-8", "1.23457e+8"), "0" for -0.
function fmt(x, digits = 6) {
  if (x === null || x === undefined) return "";
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf");
  if (x === 0) return "0";
  const exp = parseInt(x.toExponential(digits - 1).split("e")[1], 10);
  if (exp < -4 || exp >= digits) {
    let [mantissa, e] = x.toExponential(digits - 1).split("e");
    if (mantissa.includes(".")) mantissa = mantissa.replace(/0+$/, "").replace(/\.$/, "");
    return mantissa + "e" + (parseInt(e, 10) < 0 ? "-" : "+") + Math.abs(parseInt(e, 10));
  }
  let text = x.toFixed(Math.max(0, digits - 1 - exp));
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text === "-0" ? "0" : text;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") node.dataset.testid = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") node.setAttribute("data-testid", v);
    else node.setAttribute(k, v);
  }
  if (text !== null) node.textContent = text;
  return node;
}

function arrowMarker(svg, id, color) {
  const defs = svgEl("defs");
  const marker = svgEl("marker", {id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
                                  orient: "auto-start-reverse"});
  marker.append(svgEl("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: color}));
  defs.append(marker);
  svg.append(defs);
}

// A drawing wider than its box scrolls inside it: bring the step being shown (node) into view, sideways only.
function keepInView(node) {
  const box = node && node.closest("figure");
  if (!box || box.scrollWidth <= box.clientWidth) return;
  const b = box.getBoundingClientRect(), r = node.getBoundingClientRect();
  if (r.left < b.left || r.right > b.right) box.scrollLeft += (r.left + r.right) / 2 - (b.left + b.right) / 2;
}

// Horizontal bars: one per label, the largest highlighted. container gets one row per label.
function barChart(container, labels, values, highlight) {
  container.replaceChildren();
  labels.forEach((label, i) => {
    const pct = Math.max(0, Math.min(1, values[i])) * 100;
    const bar = el("div", {class: "bar" + (i === highlight ? " top" : ""), style: `width:${pct.toFixed(1)}%`});
    const row = el("div", {class: "bar-row", testid: `prob-${label}`, title: `${label}: ${values[i].toFixed(4)}`},
                   el("span", {class: "bar-label", text: label}),
                   el("span", {class: "bar-track"}, bar),
                   el("span", {class: "bar-value", text: values[i].toFixed(3)}));
    container.append(row);
  });
}

// A line chart of one or more series [{name, color, points: [[x, y], ...]}] into an <svg>.
// legend: "top" right, or "bottom" right (for curves that rise to the top, as accuracy does).
function lineChart(svg, series, {xLabel = "", yLabel = "", yMin = null, yMax = null, xMax = null, legend = "top"} = {}) {
  // drawn one unit a pixel, 480 wide (two side by side at 1100 px) or the screen's width less margins on a phone:
  // its 13 px labels stay 13 px
  const W = Math.max(280, Math.min(480, document.documentElement.clientWidth - 60)), H = 250, L = 56, R = 12, T = 24, B = 38;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.style.width = `${W}px`;
  svg.setAttribute("aria-label", `${svg.dataset.title || yLabel}: ${yLabel} against ${xLabel}` +
                   (series.length ? ` (${series.map(s => s.name).join("; ")})` : ""));
  svg.replaceChildren();
  const all = series.flatMap(s => s.points);
  const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
  const x1 = xMax !== null ? xMax : Math.max(1, ...xs);
  // an empty chart has the ticks 0 … 1, not 0 … 1e-9
  let y0 = yMin !== null ? yMin : Math.min(0, ...ys), y1 = yMax !== null ? yMax : ys.length ? Math.max(...ys) : 1;
  if (y1 <= y0) y1 = y0 + 1;
  const sx = x => L + (W - L - R) * (x / x1), sy = y => T + (H - T - B) * (1 - (y - y0) / (y1 - y0));
  svg.append(svgEl("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis"}));
  svg.append(svgEl("line", {x1: L, y1: T, x2: L, y2: H - B, class: "axis"}));
  for (let k = 0; k <= 4; k++) {
    const y = y0 + (y1 - y0) * k / 4;
    svg.append(svgEl("text", {x: L - 6, y: sy(y) + 4, class: "tick", "text-anchor": "end"}, fmt(y, 3)));
    svg.append(svgEl("line", {x1: L, y1: sy(y), x2: W - R, y2: sy(y), class: "grid"}));
  }
  for (let k = 0; k <= 4; k++) {
    const x = x1 * k / 4;
    svg.append(svgEl("text", {x: sx(x), y: H - B + 16, class: "tick", "text-anchor": "middle"}, fmt(x, 3)));
  }
  svg.append(svgEl("text", {x: (L + W - R) / 2, y: H - 4, class: "axis-label", "text-anchor": "middle"}, xLabel));
  svg.append(svgEl("text", {x: L, y: 12, class: "axis-label", "text-anchor": "middle"}, yLabel));
  series.forEach((s, i) => {
    if (s.points.length) {
      const d = s.points.map((p, k) => `${k ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
      svg.append(svgEl("path", {d, fill: "none", stroke: s.color, "stroke-width": s.width || 2}));
    }
    const y = legend === "bottom" ? H - B - 8 - 15 * (series.length - 1 - i) : T + 14 + 15 * i;
    svg.append(svgEl("text", {x: W - R - 4, y, style: `fill: ${s.color}`, class: "legend",
                              "text-anchor": "end"}, s.name));
  });
}

// A 28×28 array of numbers in [0, 1] drawn into a canvas (white ink on black, as MNIST).
function drawImage28(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const v = Math.round(255 * Math.max(0, Math.min(1, pixels[r][c])));
      const k = 4 * (28 * r + c);
      img.data[k] = img.data[k + 1] = img.data[k + 2] = v;
      img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

function readData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}
