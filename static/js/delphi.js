// Live Delphi round client (protocol: docs/realtime.md). No dependencies.
// The grid works without this file (each cell posts through htmx or a plain form); with it, votes
// travel over the websocket, are queued until acknowledged, and are resent after a reconnect.
(function () {
  "use strict";

  const grid = document.getElementById("delphi-round");
  const board = document.getElementById("delphi-facilitator");
  const root = grid || board;
  if (!root || !("WebSocket" in window)) return;

  const roundId = root.dataset.round;
  const wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.wsPath;
  const storageKey = "delphi-unacked-" + roundId;
  const liveBadge = document.getElementById("delphi-live");

  let socket = null;
  let online = false;
  let attempts = 0;
  let lastSequence = -1;
  let closed = root.dataset.status === "closed";
  // client_id → vote message, in send order; persisted so a reload does not lose unacknowledged votes.
  const unacked = new Map(loadQueue());

  function loadQueue() {
    try { return JSON.parse(sessionStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }
  function saveQueue() {
    try { sessionStorage.setItem(storageKey, JSON.stringify([...unacked.entries()])); } catch (e) { /* private mode */ }
  }
  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function setLive(text, cls) {
    if (!liveBadge) return;
    liveBadge.textContent = text;
    liveBadge.className = "badge " + cls;
  }

  // --- connection --------------------------------------------------------------------------------
  function connect() {
    socket = new WebSocket(wsUrl);
    socket.addEventListener("open", () => { attempts = 0; });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", () => {
      online = false;
      root.dataset.live = "0";
      if (closed) { setLive("Round closed", "text-bg-secondary"); return; }
      setLive("Reconnecting… answers are kept", "text-bg-warning");
      // Exponential backoff with jitter, capped at 30 s.
      const delay = Math.min(30000, 500 * 2 ** attempts) * (0.5 + Math.random());
      attempts += 1;
      setTimeout(connect, delay);
    });
  }

  function send(message) {
    if (online && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function resendUnacked() {
    for (const message of unacked.values()) send(message);
  }

  // --- messages ----------------------------------------------------------------------------------
  function handle(message) {
    switch (message.type) {
      case "snapshot":
        online = true;
        root.dataset.live = "1";
        lastSequence = message.sequence;
        closed = message.status === "closed";
        setLive(closed ? "Round closed" : "Live", closed ? "text-bg-secondary" : "text-bg-success");
        applyMine(message.mine || {});
        applyProgress(message.progress || {}, message.revealed);
        if (message.distributions) applyDistributions(message.distributions);
        if (closed) markClosed();
        resendUnacked();
        break;
      case "ack":
        unacked.delete(message.client_id);
        saveQueue();
        setCellStatus(message.item, "Saved", "text-success");
        break;
      case "error":
        if (message.retry) {
          setTimeout(() => { const m = unacked.get(message.client_id); if (m) send(m); }, 1000 + Math.random() * 1000);
          break;
        }
        if (message.client_id && unacked.has(message.client_id)) {
          const item = unacked.get(message.client_id).item;
          unacked.delete(message.client_id);
          saveQueue();
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
    const pending = new Set([...unacked.values()].map((m) => String(m.item)));
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
    setLive("Round closed", "text-bg-secondary");
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
    for (const [id, m] of unacked) if (m.item === item) unacked.delete(id);
    const message = { type: "vote", client_id: newClientId(), item: item, value: Number(value), rationale: rationale };
    unacked.set(message.client_id, message);
    saveQueue();
    if (td) td.classList.add("is-pending");
    setCellStatus(item, "Saving…", "text-body-secondary");
    send(message);
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

  connect();
  // For tests and the curious: the state of the queue.
  window.delphiClient = { unacked: () => unacked.size, online: () => online, sequence: () => lastSequence };
})();
