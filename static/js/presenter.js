// The presenter's projector screen (protocol: docs/realtime.md). Needs static/js/live_socket.js first.
// The page works without this file (its board polls every 10 s, its buttons are forms); with it,
// the bars and the panel's progress move as votes arrive over the round's socket, "now
// discussing", reveal/hide and a close show at once, the deadline counts down, and the page goes
// full screen (the button, or the F key; Esc leaves).
(function () {
  "use strict";

  const root = document.getElementById("presenter");
  if (!root) return;

  const minShown = Number(root.dataset.minShown || 3);
  let closed = root.dataset.status === "closed";
  let lastSequence = -1; // of the last progress or snapshot applied
  let discussingSequence = -1; // of the last "now discussing" state applied (snapshot or discussing)

  const board = () => document.getElementById("board");

  // --- full screen -------------------------------------------------------------------------------
  const fullscreen = document.getElementById("fullscreen-toggle");
  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    const label = fullscreen.querySelector("span");
    const sync = () => {
      const on = Boolean(document.fullscreenElement);
      fullscreen.setAttribute("aria-pressed", on ? "true" : "false");
      if (label) label.textContent = on ? "Exit full screen" : "Full screen";
    };
    const toggle = () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    };
    fullscreen.addEventListener("click", toggle);
    document.addEventListener("fullscreenchange", sync);
    document.addEventListener("keydown", (event) => {
      // Browsers leave full screen on Esc themselves; this also covers one that passes Esc on.
      if (event.key === "Escape" && document.fullscreenElement) { document.exitFullscreen(); return; }
      const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
      if ((event.key === "f" || event.key === "F") && !event.ctrlKey && !event.metaKey && !event.altKey && !typing) toggle();
    });
  }

  // --- the countdown to the deadline (the server's clock: data-now is when the page was made) -----
  const timer = document.getElementById("presenter-countdown");
  const deadline = timer && timer.dataset.deadline ? Date.parse(timer.dataset.deadline) : NaN;
  const skew = timer && timer.dataset.now ? Date.parse(timer.dataset.now) - Date.now() : 0;
  const pad = (n) => String(n).padStart(2, "0");

  function tick() {
    if (!timer) return;
    let text;
    let soon = false;
    if (closed) text = "Round closed";
    else if (Number.isNaN(deadline)) text = "No deadline";
    else {
      const left = Math.round((deadline - (Date.now() + (Number.isNaN(skew) ? 0 : skew))) / 1000);
      if (left <= 0) text = "Time is up";
      else {
        const h = Math.floor(left / 3600);
        const m = Math.floor((left % 3600) / 60);
        text = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(left % 60) + " left";
        soon = left <= 60;
      }
    }
    if (timer.textContent !== text) timer.textContent = text;
    timer.classList.toggle("is-soon", soon);
  }
  tick();
  setInterval(tick, 1000);

  // --- the board: redrawn by the server (status colours, agreement, groups), at most twice a second
  let boardTimer = null;
  function refreshBoard(now) {
    if (boardTimer) {
      if (!now) return;
      clearTimeout(boardTimer);
    }
    boardTimer = setTimeout(() => {
      boardTimer = null;
      const el = board();
      if (el && window.htmx) window.htmx.trigger(el, "refresh");
    }, now ? 0 : 500);
  }

  function markClosed() {
    closed = true;
    root.dataset.status = "closed";
    const badge = document.getElementById("round-status");
    if (badge) {
      badge.textContent = "Closed";
      badge.dataset.status = "closed";
      badge.classList.remove("is-open");
      badge.classList.add("is-closed");
    }
    const banner = document.getElementById("round-closed-banner");
    if (banner) banner.classList.remove("d-none");
    const close = document.getElementById("close-form");
    if (close) close.hidden = true;
    tick();
  }

  document.body.addEventListener("htmx:afterSettle", () => {
    const el = board();
    if (el && el.dataset.status === "closed" && !closed) markClosed();
  });
  // Reveal/hide and close post through htmx (no reload): redraw at once, the socket confirms.
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-presenter-act]");
    if (form && event.detail.successful) refreshBoard(true);
  });

  // --- live updates ----------------------------------------------------------------------------
  function applyProgress(progress) {
    for (const [item, n] of Object.entries(progress.answers || {})) {
      root.querySelectorAll('[data-answers-for="' + item + '"]').forEach((el) => {
        el.textContent = n + (n === 1 ? " answer" : " answers");
      });
    }
    const panel = progress.panellists || {};
    for (const key of ["started", "finished", "eligible"]) {
      const el = root.querySelector("[data-panel-" + key + "]");
      if (el && panel[key] !== undefined) el.textContent = String(panel[key]);
    }
  }

  // Bars exist only where the server drew them (results shown, enough answers for the room to
  // see): they are redrawn in place, never added, so the anonymity floor holds here too.
  function applyDistributions(items) {
    for (const [item, counts] of Object.entries(items)) {
      const n = counts.reduce((a, b) => a + b, 0);
      if (n < minShown) continue;
      root.querySelectorAll('[data-bars="' + item + '"]').forEach((chart) => {
        counts.forEach((count, value) => {
          const row = chart.querySelector('[data-value="' + value + '"]');
          if (!row) return;
          row.querySelector("[data-count]").textContent = String(count);
          row.querySelector(".delphi-bar").style.width = Math.round((100 * count) / n) + "%";
        });
      });
    }
  }

  function discussingShown() {
    const el = board();
    return el ? el.dataset.discussing : "";
  }

  function revealedShown() {
    const el = board();
    return el ? el.dataset.revealed === "1" : false;
  }

  function handle(message) {
    switch (message.type) {
      case "snapshot":
        lastSequence = message.sequence;
        discussingSequence = message.sequence;
        applyProgress(message.progress || {});
        if (message.distributions) applyDistributions(message.distributions);
        if (message.status === "closed") markClosed();
        refreshBoard(String(message.discussing ?? "") !== discussingShown() || message.revealed !== revealedShown());
        break;
      case "progress":
        if (message.sequence < lastSequence) break;
        lastSequence = message.sequence;
        applyProgress(message);
        // Present only when the counts changed since the last broadcast (docs/realtime.md).
        if (message.distributions) applyDistributions(message.distributions);
        if (message.status === "closed") markClosed();
        refreshBoard(message.revealed !== revealedShown());
        break;
      case "round_closed":
        markClosed();
        refreshBoard(true);
        break;
      case "discussing":
        if (message.sequence < discussingSequence) break;
        discussingSequence = message.sequence;
        if (String(message.item ?? "") !== discussingShown()) refreshBoard(true);
        break;
    }
  }

  if (!("WebSocket" in window) || !window.LiveSocket) return;
  const live = window.LiveSocket.connect({
    path: root.dataset.wsPath,
    status: document.getElementById("delphi-live"),
    isReady: (message) => message.type === "snapshot",
    onMessage: handle,
    whileDown: "The board refreshes every 10 s meanwhile.",
  });

  // For tests and the curious.
  window.presenterClient = {
    online: () => live.state === "live", sequence: () => lastSequence, closed: () => closed,
  };
})();
