// The convener's bulk review on the capture page: a count of the ticked statements, "select all
// shown", one toolbar panel open at a time, x to tick the row that has the focus, shift-click for
// a range. The list refreshes itself (socket or poll) by swapping #capture-list, so the ticks and
// the focus are carried across each swap. Without this script every panel shows and the form
// still posts; the server refuses what is missing either way.
(function () {
  "use strict";

  const form = document.getElementById("capture-bulk");
  if (!form) return;
  const allBox = document.getElementById("bulk-all");
  const count = document.getElementById("bulk-count");
  const problem = document.getElementById("bulk-problem");
  const panels = Array.from(form.querySelectorAll(".bulk-panel"));
  const toggles = Array.from(form.querySelectorAll("[data-bulk-panel]"));
  const selected = new Set();
  let lastClicked = null;

  function boxes() {
    return Array.from(document.querySelectorAll('#capture-list input[name="ids"]'));
  }

  function update() {
    const shown = boxes();
    const ticked = shown.filter((box) => box.checked).length;
    count.textContent = ticked === 0 ? "None selected" : `${ticked} of ${shown.length} selected`;
    allBox.checked = ticked > 0 && ticked === shown.length;
    allBox.indeterminate = ticked > 0 && ticked < shown.length;
    allBox.disabled = shown.length === 0;
    if (ticked > 0) problem.textContent = "";
  }

  function tick(box, checked) {
    box.checked = checked;
    if (checked) selected.add(box.value);
    else selected.delete(box.value);
  }

  function openPanel(id) {
    panels.forEach((panel) => {
      panel.hidden = panel.id !== id || !panel.hidden;
    });
    toggles.forEach((button) => {
      const open = !document.getElementById(button.dataset.bulkPanel).hidden;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.classList.toggle("active", open);
    });
    const panel = document.getElementById(id);
    if (!panel.hidden) panel.querySelector("textarea, select, input")?.focus();
  }

  // With the script, the toolbar is one row of buttons; each opens its panel.
  form.querySelectorAll("[data-bulk-js]").forEach((element) => {
    element.hidden = false;
  });
  panels.forEach((panel) => {
    panel.hidden = true;
  });
  toggles.forEach((button) => button.addEventListener("click", () => openPanel(button.dataset.bulkPanel)));

  // Applying suggestions is all or nothing: tick exactly the shown statements that have one.
  document.getElementById("bulk-select-suggested")?.addEventListener("click", () => {
    boxes().forEach((box) => tick(box, !!form.elements[`suggested-${box.value}`]));
    update();
  });

  allBox.addEventListener("change", () => {
    boxes().forEach((box) => tick(box, allBox.checked));
    update();
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches('#capture-list input[name="ids"]')) {
      tick(event.target, event.target.checked);
      update();
    }
  });

  document.addEventListener("click", (event) => {
    const box = event.target.closest('#capture-list input[name="ids"]');
    if (!box) return;
    if (event.shiftKey && lastClicked && lastClicked !== box) {
      const list = boxes();
      const [from, to] = [list.indexOf(lastClicked), list.indexOf(box)].sort((a, b) => a - b);
      if (from >= 0) list.slice(from, to + 1).forEach((other) => tick(other, box.checked));
      update();
    }
    lastClicked = box;
  });

  // x ticks the statement whose row holds the focus (Space already does on the checkbox itself).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "x" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]")) return;
    const row = event.target.closest("#capture-list li");
    const box = row?.querySelector('input[name="ids"]');
    if (!box) return;
    event.preventDefault();
    tick(box, !box.checked);
    update();
  });

  form.addEventListener("submit", (event) => {
    const action = event.submitter?.value;
    if (!action) {
      event.preventDefault(); // Enter on a tick box or a field: only the toolbar's buttons act
      return;
    }
    let message = "";
    if (!boxes().some((box) => box.checked)) message = "Select at least one statement first.";
    else if (action === "reject" && !form.elements.reason.value.trim()) message = "Say why the statements are rejected.";
    else if (action === "classify" && !form.elements.classification.value) message = "Choose a classification first.";
    else if (action === "partners" && !form.querySelector('input[name="partners"]:checked'))
      message = "Choose at least one supply-chain partner.";
    if (message) {
      event.preventDefault();
      problem.textContent = message;
    }
  });

  // Carry the ticks and the focus across the list's refresh.
  // The focused element is found again by its id, or else by its row and its link (a statement's
  // link has no id of its own).
  let focused = null;
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target?.id !== "capture-list") return;
    const active = document.activeElement;
    focused = null;
    if (!active || !event.detail.target.contains(active)) return;
    const row = active.closest("li[id]");
    const href = active.getAttribute("href");
    focused = active.id ? { id: active.id } : row && href ? { row: row.id, href } : null;
  });
  function refocus() {
    if (!focused) return null;
    if (focused.id) return document.getElementById(focused.id);
    const row = document.getElementById(focused.row);
    return row ? [...row.querySelectorAll("a[href]")].find((a) => a.getAttribute("href") === focused.href) : null;
  }
  document.body.addEventListener("htmx:afterSettle", () => {
    const shown = boxes();
    const present = new Set(shown.map((box) => box.value));
    shown.forEach((box) => {
      box.checked = selected.has(box.value);
    });
    selected.forEach((id) => {
      if (!present.has(id)) selected.delete(id);
    });
    // Only where the focus was lost with the old list: someone who moved on while the refresh was
    // in flight (opened the Reject panel, say) keeps the focus where they put it.
    const now = document.activeElement;
    const lost = !now || now === document.body || document.getElementById("capture-list")?.contains(now);
    if (lost) refocus()?.focus({ preventScroll: true });
    focused = null;
    update();
  });

  update();
})();
