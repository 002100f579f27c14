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

  const CANT_JUDGE = "cant_judge"; // the radio's value for "I can't judge this" (workshops.delphi.views.CANT_JUDGE)
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
  // At the deadline the round reads closed on every screen (the server refuses later answers and
  // the scheduler closes the row within a minute); the server's clock, not this device's, decides.
  if (!closed && root.dataset.deadline) {
    const left = Date.parse(root.dataset.deadline) - Date.parse(root.dataset.now);
    if (left > 0 && left < 2 ** 31 - 1) setTimeout(() => { if (!closed) markClosed(); }, left);
  }

  // --- messages ----------------------------------------------------------------------------------
  function handle(message) {
    switch (message.type) {
      case "snapshot":
        lastSequence = message.sequence;
        closed = message.status === "closed";
        applyMine(message.mine || {});
        applyProgress(message.progress || {}, message.revealed);
        if (message.distributions) applyDistributions(message.distributions);
        if ("discussing" in message) { discussingSequence = message.sequence; showDiscussing(message.discussing); }
        if (closed) markClosed();
        break;
      case "discussing":
        // Ordered on its own (docs/realtime.md): an older discussing state never replaces a newer one.
        if (message.sequence < discussingSequence) break;
        discussingSequence = message.sequence;
        showDiscussing(message.item);
        break;
      case "ack":
        live.acknowledge(message.client_id);
        setCellStatus(message.item, "Saved", "text-success");
        markAnswered(message.item);
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
        // Present only when the counts this viewer may see changed since the last broadcast.
        if (message.distributions) applyDistributions(message.distributions);
        if (message.status === "closed") markClosed();
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
      const choice = answer.cant_judge ? CANT_JUDGE : answer.value;
      const radio = td.querySelector('input[name="value"][value="' + choice + '"]');
      if (radio) radio.checked = true;
      const text = td.querySelector('textarea[name="rationale"]');
      if (text && document.activeElement !== text) text.value = answer.rationale || "";
    }
    for (const item of [...Object.keys(mine), ...pending]) answered.add(String(item));
    renderAnswered();
  }

  // The items this panellist has answered (stored, or sent and waiting for the ack): the count
  // "You answered N of M" and the pager's "next unanswered" follow it without a reload.
  const answered = new Set();
  function markAnswered(item) {
    answered.add(String(item));
    renderAnswered();
  }
  function renderAnswered() {
    const count = document.getElementById("mine-count");
    if (count) count.textContent = String(answered.size);
    for (const item of answered) {
      const td = cell(item);
      if (td) td.classList.add("is-answered");
    }
    if (pager) pager.render();
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

  const CODES = ["N", "A", "P", "E"]; // as workshops.models.PROFICIENCY_CODES
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
    const badge = document.getElementById("round-status");
    if (badge) {
      badge.textContent = "Closed";
      badge.classList.remove("text-bg-success");
      badge.classList.add("text-bg-secondary");
    }
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
    // "I can't judge this" travels as cant_judge: true with no value (docs/realtime.md).
    const unjudged = value === CANT_JUDGE;
    const message = {
      type: "vote", client_id: newClientId(), item: item, value: unjudged ? null : Number(value), rationale: rationale,
    };
    if (unjudged) message.cant_judge = true;
    if (td) td.classList.add("is-pending");
    setCellStatus(item, "Saving…", "text-body-secondary");
    live.sendReliable(message.client_id, message);
    markAnswered(item);
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

  // "Now discussing" (set from the presenter screen): the item, and the sequence it was set at.
  let discussing = root.dataset.discussing || null;
  let discussingSequence = -1;

  // --- one item per screen (phones) --------------------------------------------------------------
  // Below 768 px the items show one at a time with Previous / Next, "7 of 18" and "Next
  // unanswered"; the URL's #item-<id> names the item shown, so the back button and a shared link
  // work. Wider screens show the grid. Without this script a phone shows every item stacked.
  function answeredFromPage() {
    grid.querySelectorAll(".delphi-cell.is-answered").forEach((el) => answered.add(el.dataset.item));
  }
  if (grid) answeredFromPage();
  const pager = grid ? makePager() : null;

  function makePager() {
    const nav = document.getElementById("delphi-pager");
    const items = () => [...grid.querySelectorAll(".delphi-cell")];
    const narrow = window.matchMedia("(max-width: 767.98px)");
    let current = 0;

    function indexOf(id) { return items().findIndex((el) => el.dataset.item === String(id)); }
    function fromHash() {
      const match = /^#item-(\d+)$/.exec(location.hash);
      return match ? indexOf(match[1]) : -1;
    }
    function firstUnanswered(after) {
      const all = items();
      for (let step = 1; step <= all.length; step += 1) {
        const i = (after + step) % all.length;
        if (!answered.has(all[i].dataset.item)) return i;
      }
      return -1;
    }
    function show(index, focus) {
      const all = items();
      if (!all.length) return;
      current = Math.max(0, Math.min(all.length - 1, index));
      all.forEach((el, i) => el.classList.toggle("is-current", i === current));
      grid.querySelectorAll(".delphi-cap").forEach((cap) => cap.classList.toggle("has-current", cap.contains(all[current])));
      // Only when the person moves: a fragment set while the page loads makes the browser scroll to it.
      if (focus) history.replaceState(null, "", "#item-" + all[current].dataset.item);
      render();
      if (focus && narrow.matches) {
        const heading = all[current].closest(".delphi-cap").querySelector(".delphi-cap-title");
        heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
        window.scrollTo({ top: Math.max(0, grid.querySelector(".delphi-scroll").offsetTop - 8) });
      }
    }
    function render() {
      const all = items();
      const position = nav.querySelector("[data-pager-position]");
      if (position) position.textContent = (current + 1) + " of " + all.length;
      nav.querySelector('[data-pager="prev"]').disabled = current <= 0;
      nav.querySelector('[data-pager="next"]').disabled = current >= all.length - 1;
      const next = grid.querySelector('[data-pager="unanswered"]');
      if (next) next.hidden = !narrow.matches || answered.size >= all.length;
      const go = grid.querySelector('[data-pager="discussing"]');
      if (go) go.hidden = narrow.matches && all[current].dataset.item === discussing;
    }
    function layout() {
      const single = narrow.matches;
      grid.classList.toggle("is-single", single);
      nav.hidden = !single;
      if (single) show(current, false);
    }
    grid.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("[data-pager]");
      if (!button) return;
      const action = button.dataset.pager;
      if (action === "prev") show(current - 1, true);
      else if (action === "next") show(current + 1, true);
      else if (action === "unanswered") { const i = firstUnanswered(current); if (i >= 0) show(i, true); }
      else if (action === "discussing" && discussing !== null) goTo(discussing);
    });
    window.addEventListener("hashchange", () => { const i = fromHash(); if (i >= 0 && i !== current) show(i, false); });
    // htmx redraws an item when it saves without the socket: keep the one shown.
    document.body.addEventListener("htmx:afterSwap", () => {
      answeredFromPage();
      if (narrow.matches) show(current, false);
      else render();
    });
    narrow.addEventListener("change", layout);
    const start = fromHash();
    current = start >= 0 ? start : Math.max(0, firstUnanswered(-1));
    layout();
    return { render, show, indexOf };
  }

  // --- "now discussing": the convener points the room at one item (presenter screen) -------------
  function goTo(item) {
    const el = cell(item);
    if (!el) return;
    if (pager && grid.classList.contains("is-single")) pager.show(pager.indexOf(item), true);
    else el.scrollIntoView({ block: "center" });
  }
  function showDiscussing(item) {
    discussing = item === null || item === undefined ? null : String(item);
    root.querySelectorAll(".delphi-cell.is-discussed").forEach((el) => el.classList.remove("is-discussed"));
    const banner = document.getElementById("delphi-discussing");
    const el = discussing && cell(discussing);
    if (!banner) return;
    if (!el) { banner.hidden = true; return; }
    el.classList.add("is-discussed");
    if (pager) pager.render();
    banner.querySelector("[data-discussing-label]").textContent = el.dataset.ref + " at " + el.dataset.level;
    banner.hidden = false;
  }
  if (discussing) showDiscussing(discussing);

  // For tests and the curious: the state of the queue and of the connection.
  window.delphiClient = {
    unacked: () => unacked.size, online: () => online, sequence: () => lastSequence, state: () => live.state,
    answered: () => answered.size,
  };
})();
