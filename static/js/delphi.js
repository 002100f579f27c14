// Live Delphi round client (protocol: docs/realtime.md). Needs static/js/live_socket.js first.
// The grid works without this file (each cell posts through htmx or a plain form); with it, votes
// travel over the websocket, are queued until acknowledged, and are resent after a reconnect.
(function () {
  "use strict";

  const grid = document.getElementById("delphi-round");
  const board = document.getElementById("delphi-facilitator");
  const root = grid || board;
  if (!root || !("WebSocket" in window) || !window.LiveSocket) return;

  const roundId = root.dataset.round;
  const liveBadge = document.getElementById("delphi-live");

  let online = false;
  let lastSequence = -1;
  let closed = root.dataset.status === "closed";

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // --- connection (static/js/live_socket.js: backoff, status, refusals, the outbox) --------------
  // Every vote waits in the outbox (client_id → message, in sessionStorage) until its ack, and is
  // resent with the same client id after every snapshot: the server answers a vote it already
  // stored from its receipt, so nothing counts twice.
  const live = window.LiveSocket.connect({
    path: root.dataset.wsPath,
    status: liveBadge,
    outbox: "delphi-unacked-" + roundId,
    isReady: (message) => message.type === "snapshot",
    onMessage: handle,
    onState(state, socket) {
      online = state === "live" || (state === "finished" && socket.ready);
      root.dataset.live = online ? "1" : "0";
    },
    onRefused(code, socket) {
      // Not signed in / not allowed: whatever is queued will not be stored over this socket.
      for (const message of socket.outbox.values()) setCellStatus(message.item, "Not saved", "text-danger");
      socket.outbox.clear();
    },
    whileDown: board ? "The board refreshes every 10 s meanwhile." : "Answers still save.",
  });
  const unacked = live.outbox;
  if (closed) live.finish("Round closed");

  // --- messages ----------------------------------------------------------------------------------
  function handle(message) {
    switch (message.type) {
      case "snapshot":
        lastSequence = message.sequence;
        closed = message.status === "closed";
        applyMine(message.mine || {});
        applyProgress(message.progress || {}, message.revealed);
        if (message.distributions) applyDistributions(message.distributions);
        if (closed) markClosed();
        break;
      case "ack":
        live.acknowledge(message.client_id);
        setCellStatus(message.item, "Saved", "text-success");
        break;
      case "error":
        if (message.retry) {
          setTimeout(() => live.resend(message.client_id), 1000 + Math.random() * 1000);
          break;
        }
        if (message.client_id && unacked.has(message.client_id)) {
          const item = unacked.get(message.client_id).item;
          live.acknowledge(message.client_id);
          setCellStatus(item, message.message, "text-danger");
        }
        if (message.code === "round_closed") markClosed();
        break;
      case "progress":
        if (message.sequence < lastSequence) break;
        lastSequence = message.sequence;
        applyProgress(message, message.revealed);
        if (message.status === "closed") markClosed();
        break;
      case "distribution":
        applyDistributions(message.items || {});
        break;
      case "round_closed":
        markClosed();
        break;
    }
    if (board && (message.type === "progress" || message.type === "round_closed")) refreshBoard();
  }

  // --- the grid ----------------------------------------------------------------------------------
  function cell(item) { return document.getElementById("item-" + item); }

  function setCellStatus(item, text, cls) {
    const td = cell(item);
    if (!td) return;
    td.classList.remove("is-pending");
    const status = td.querySelector("[data-status]");
    if (status) { status.textContent = text; status.className = "delphi-status " + cls; }
  }

  function applyMine(mine) {
    const pending = new Set(unacked.values().map((m) => String(m.item)));
    for (const [item, answer] of Object.entries(mine)) {
      if (pending.has(item)) continue; // our newer, unacknowledged answer wins
      const td = cell(item);
      if (!td) continue;
      const radio = td.querySelector('input[name="value"][value="' + answer.value + '"]');
      if (radio) radio.checked = true;
      const text = td.querySelector('textarea[name="rationale"]');
      if (text && document.activeElement !== text) text.value = answer.rationale || "";
    }
    const count = root.querySelector("[data-mine-count]");
    if (count) count.textContent = String(new Set([...Object.keys(mine), ...pending]).size);
  }

  function applyProgress(progress, revealed) {
    const answers = progress.answers || {};
    for (const [item, n] of Object.entries(answers)) {
      const td = cell(item);
      const span = td && td.querySelector("[data-answers]");
      if (span) span.textContent = n + (n === 1 ? " answer" : " answers");
    }
    const panel = progress.panellists || {};
    for (const key of ["started", "finished", "eligible"]) {
      const el = root.querySelector("[data-panel-" + key + "]");
      if (el && panel[key] !== undefined) el.textContent = String(panel[key]);
    }
    if (revealed === false && grid) {
      root.querySelectorAll("[data-dist]").forEach((el) => { el.textContent = ""; });
    }
  }

  const CODES = ["–", "A", "P", "E"];
  const LABELS = ["Not needed", "Awareness", "Practitioner", "Expert"];
  function applyDistributions(items) {
    for (const [item, counts] of Object.entries(items)) {
      const td = cell(item);
      const el = td && td.querySelector("[data-dist]");
      if (!el) continue;
      el.replaceChildren(...counts.map((n, v) => {
        const badge = document.createElement("span");
        badge.className = "badge text-bg-light";
        badge.title = LABELS[v];
        badge.textContent = CODES[v] + " " + n;
        return badge;
      }));
    }
  }

  function markClosed() {
    closed = true;
    root.dataset.status = "closed";
    const banner = document.getElementById("round-closed-banner");
    if (banner) banner.classList.remove("d-none");
    root.querySelectorAll(".delphi-vote fieldset").forEach((fs) => { fs.disabled = true; });
    live.finish("Round closed");
  }

  function castFrom(form, submitter) {
    const td = form.closest(".delphi-cell");
    const item = Number(form.querySelector('input[name="item"]').value);
    let value = submitter && submitter.name === "keep" ? submitter.value : null;
    if (value === null) {
      const checked = form.querySelector('input[name="value"]:checked');
      if (!checked) { setCellStatus(item, "Choose a proficiency first.", "text-danger"); return; }
      value = checked.value;
    }
    if (submitter && submitter.name === "keep") {
      const radio = form.querySelector('input[name="value"][value="' + value + '"]');
      if (radio) radio.checked = true;
    }
    const rationale = (form.querySelector('textarea[name="rationale"]') || { value: "" }).value;
    // A newer answer to the same item supersedes any older one still waiting for its ack.
    unacked.removeWhere((m) => m.item === item);
    const message = { type: "vote", client_id: newClientId(), item: item, value: Number(value), rationale: rationale };
    if (td) td.classList.add("is-pending");
    setCellStatus(item, "Saving…", "text-body-secondary");
    live.sendReliable(message.client_id, message);
  }

  if (grid) {
    // Capture phase: when live, the websocket takes the vote and htmx never sees the event.
    grid.addEventListener("change", (event) => {
      const form = event.target.closest && event.target.closest("form.delphi-vote");
      if (!form || !online || closed) return;
      event.stopPropagation();
      castFrom(form, null);
    }, true);
    grid.addEventListener("submit", (event) => {
      const form = event.target.closest && event.target.closest("form.delphi-vote");
      if (!form || !online || closed) return;
      event.preventDefault();
      event.stopPropagation();
      castFrom(form, event.submitter);
    }, true);
    // Also stop htmx's own submit handling of the cell forms when live.
    document.body.addEventListener("htmx:confirm", (event) => {
      if (online && !closed && event.target.closest && event.target.closest("form.delphi-vote")) event.preventDefault();
    });
  }

  let boardTimer = null;
  function refreshBoard() {
    if (boardTimer) return;
    boardTimer = setTimeout(() => {
      boardTimer = null;
      const el = document.getElementById("board");
      if (el && window.htmx) window.htmx.trigger(el, "refresh");
    }, 500);
  }

  // For tests and the curious: the state of the queue and of the connection.
  window.delphiClient = {
    unacked: () => unacked.size, online: () => online, sequence: () => lastSequence, state: () => live.state,
  };
})();
