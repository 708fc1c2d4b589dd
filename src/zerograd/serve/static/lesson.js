// Lesson keys for the step-through pages (reveal.js and Jupyter habits): → or Space the next step, Shift+→ the next
// backward step, ← one step back, R reset, ? this list. The page object supplies next(), stepBackward(), stepBack(),
// reset(), stop() and nextControl() (the button a teacher presses next, which takes the focus after each key).
"use strict";

const LESSON_KEYS = [
  ["→ or Space", "next step: the forward pass node by node, then on into the backward pass"],
  ["Shift + →", "next step of the backward pass (the gradients)"],
  ["←", "one step back"],
  ["R", "reset: back to the start of the forward pass"],
  ["?", "show or hide this list (Esc closes it)"],
];

// One step back in a lesson at forward step page.fwd and backward step page.bwd (of page.steps): the last step taken
// is undone and the one before it highlighted again. False when already at the start.
function lessonStepBack(page, forward) {
  if (page.bwd > 0) page.bwd -= 1; else if (page.fwd > 0) page.fwd -= 1; else return false;
  page.current = page.bwd > 0 ? {phase: "backward", id: page.steps[page.bwd - 1]}
    : page.fwd > 0 ? {phase: "forward", id: forward[page.fwd - 1]} : null;
  return true;
}

function lessonKeys(page, root) {
  const dialog = el("dialog", {id: "keys-dialog", testid: "keys-dialog", "aria-label": "keys"},
                    el("h2", {text: "Keys"}),
                    el("dl", {}, ...LESSON_KEYS.flatMap(([key, what]) => [el("dt", {text: key}), el("dd", {text: what})])),
                    el("button", {type: "button", text: "Close"}));
  root.append(dialog);
  const toggle = () => {
    if (dialog.open) dialog.close(); else dialog.showModal();
  };
  root.querySelector("[data-testid=keys]").addEventListener("click", toggle);
  dialog.querySelector("button").addEventListener("click", () => dialog.close());
  document.addEventListener("keydown", event => {
    const target = event.target;
    // typing in a field (an input's value, the formula) keeps its keys
    if (target.closest && target.closest("input, select, textarea")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?") { event.preventDefault(); toggle(); return; }
    if (dialog.open) return;  // Esc closes it (the browser's own)
    const actions = {
      ArrowRight: () => (event.shiftKey ? page.stepBackward() : page.next()),
      " ": () => page.next(),
      ArrowLeft: () => page.stepBack(),
      r: () => page.reset(), R: () => page.reset(),
    };
    const action = actions[event.key];
    if (!action) return;
    // NOTE: Space on a focused button would click it as well (two steps for one key): the default is prevented
    event.preventDefault();
    page.stop();
    action();
    page.nextControl().focus();
  });
}
