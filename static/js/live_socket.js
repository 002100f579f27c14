// One websocket helper for the live pages (capture, Delphi, FOP). Protocol: docs/realtime.md.
// Plain JS, no dependencies; load it before the page's script. It provides:
//   * connect with exponential backoff and jitter (0.5 s × 2ⁿ, ×0.5–1.5, capped at 30 s), and
//     at once when the browser comes back online or the tab becomes visible again;
//   * a status display in words (in the page's aria-live element): connecting, live,
//     "reconnecting in N s", offline, and why it stopped;
//   * close codes 4401 (not signed in) and 4403 (not allowed): no more reconnecting, and the
//     status says so ("Your session has ended: sign in again" with a link / "You are not allowed
//     in this room");
//   * an outbox for pages whose messages need an acknowledgement (Delphi votes): messages wait
//     in sessionStorage until acknowledged and are resent on every new connection.
//
//   const live = LiveSocket.connect({
//     path: "/ws/rounds/7/",            // from the page (data-ws-path); built by the server
//     status: element,                   // the role="status" aria-live element
//     isReady: (m) => m.type === "snapshot",   // the message that says "you are in"
//     onMessage: (m, live) => { ... },
//     onState: (state, live) => { ... },       // connecting | live | reconnecting | offline | signed-out | not-allowed | finished
//     outbox: "delphi-unacked-7",              // optional sessionStorage key
//     whileDown: "Answers still save.",        // optional sentence shown while not live
//   });
//   live.send(message) · live.sendReliable(id, message) · live.acknowledge(id) · live.resend(id)
//   live.finish(text)  (no reconnect after the next close; show text) · live.state · live.outbox
(function () {
  "use strict";

  const CLOSE_NOT_SIGNED_IN = 4401;
  const CLOSE_NOT_ALLOWED = 4403;
  const BASE_DELAY_MS = 500;
  const MAX_DELAY_MS = 30000;
  const STATE_CLASSES = ["text-bg-light", "text-bg-success", "text-bg-warning", "text-bg-danger", "text-bg-secondary", "border"];
  const STATE_CLASS = {
    connecting: ["text-bg-light", "border"],
    live: ["text-bg-success"],
    reconnecting: ["text-bg-warning"],
    offline: ["text-bg-warning"],
    "signed-out": ["text-bg-danger"],
    "not-allowed": ["text-bg-danger"],
    finished: ["text-bg-secondary"],
  };

  function backoff(attempt) {
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt) * (0.5 + Math.random());
  }

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  // Messages waiting for their acknowledgement, in send order, kept in sessionStorage so that a
  // reload keeps them. Keys are the messages' client ids.
  function Outbox(storageKey) {
    const items = new Map(load());
    function load() {
      if (!storageKey) return [];
      try { return JSON.parse(sessionStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
    }
    function save() {
      if (!storageKey) return;
      try { sessionStorage.setItem(storageKey, JSON.stringify([...items.entries()])); } catch (e) { /* private mode */ }
    }
    return {
      get size() { return items.size; },
      get: (id) => items.get(id),
      has: (id) => items.has(id),
      values: () => [...items.values()],
      put(id, message) { items.set(id, message); save(); },
      remove(id) { const had = items.delete(id); if (had) save(); return had; },
      removeWhere(test) {
        let removed = false;
        for (const [id, message] of items) if (test(message)) { items.delete(id); removed = true; }
        if (removed) save();
      },
      clear() { items.clear(); save(); },
    };
  }

  function loginLink(loginUrl) {
    const link = document.createElement("a");
    link.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
    link.className = "link-light";
    link.textContent = "sign in again";
    return link;
  }

  function connect(options) {
    const status = options.status || null;
    const labels = Object.assign(
      {
        connecting: "Connecting…",
        live: (status && status.dataset.liveLabel) || "Live",
        reconnecting: "Connection lost: reconnecting in",
        retrying: "Reconnecting…",
        offline: "Offline: reconnecting when the network is back",
        notAllowed: "You are not allowed in this room",
      },
      options.labels || {}
    );
    const loginUrl = options.loginUrl || (status && status.dataset.loginUrl) || "/accounts/login/";
    const isReady = options.isReady || (() => true);
    const outbox = Outbox(options.outbox || null);

    let socket = null;
    let ready = false;
    let attempts = 0;
    let lost = false; // a connection was lost (or never made) since the page loaded
    let stopped = false; // refused: never reconnect
    let finishedText = null; // the page needs no more reconnects (e.g. the round closed)
    let retryTimer = null;
    let tickTimer = null;
    let retryAt = 0;

    const live = {
      state: "connecting",
      outbox: outbox,
      get ready() { return ready; },
      send: send,
      sendReliable(id, message) { outbox.put(id, message); return send(message); },
      acknowledge(id) { return outbox.remove(id); },
      resend(id) { const message = outbox.get(id); return message ? send(message) : false; },
      finish(text) { finishedText = text; setState("finished"); },
      // The page learned over HTTP that the session ended (a poll between reconnects): stop as a
      // 4401 refusal would, and say so.
      signedOut() { refused(CLOSE_NOT_SIGNED_IN); },
    };

    // --- the status display ----------------------------------------------------------------------
    function setState(state) {
      live.state = state;
      render();
      if (options.onState) options.onState(state, live);
    }

    function render() {
      if (!status) return;
      const state = live.state;
      status.dataset.liveState = state;
      status.classList.remove(...STATE_CLASSES);
      status.classList.add(...(STATE_CLASS[state] || []), "text-wrap");
      const parts = [];
      if (state === "live") parts.push(labels.live);
      else if (state === "connecting") parts.push(lost ? labels.retrying : labels.connecting);
      else if (state === "finished") parts.push(finishedText || "");
      else if (state === "not-allowed") parts.push(labels.notAllowed + ".");
      else if (state === "signed-out") parts.push("Your session has ended: ", loginLink(loginUrl), ".");
      else if (state === "offline") parts.push(labels.offline + ".");
      else if (state === "reconnecting") {
        // The seconds tick silently (aria-live off); the sentence is announced once.
        const seconds = document.createElement("span");
        seconds.dataset.countdown = "";
        seconds.setAttribute("aria-live", "off");
        seconds.textContent = String(secondsLeft());
        parts.push(labels.reconnecting + " ", seconds, " s.");
      }
      if (options.whileDown && ["connecting", "reconnecting", "offline"].includes(state) && lost) {
        parts.push(" " + options.whileDown);
      }
      status.replaceChildren(...parts);
    }

    function secondsLeft() {
      return Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
    }

    function tick() {
      const el = status && status.querySelector("[data-countdown]");
      if (el) el.textContent = String(secondsLeft());
    }

    // --- the connection --------------------------------------------------------------------------
    function open() {
      clearTimers();
      if (stopped) return;
      setState("connecting");
      ready = false;
      const ws = new WebSocket(socketUrl(options.path));
      socket = ws;
      ws.addEventListener("message", (event) => {
        if (ws !== socket) return;
        let message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        if (options.onMessage) options.onMessage(message, live);
        if (!ready && isReady(message)) {
          ready = true;
          attempts = 0; // only a connection that got in resets the backoff
          setState(live.state === "finished" ? "finished" : "live");
          for (const queued of outbox.values()) send(queued);
        }
      });
      ws.addEventListener("close", (event) => {
        if (ws !== socket) return;
        socket = null;
        ready = false;
        lost = true;
        if (event.code === CLOSE_NOT_SIGNED_IN || event.code === CLOSE_NOT_ALLOWED) {
          refused(event.code);
          return;
        }
        if (finishedText !== null) { setState("finished"); return; }
        schedule();
      });
    }

    // Turned away (close code 4401 or 4403, or signedOut()): never reconnect, and say why.
    function refused(code) {
      stopped = true;
      clearTimers();
      if (socket) {
        const ws = socket;
        socket = null; // its close event is no longer ours
        ready = false;
        ws.close();
      }
      setState(code === CLOSE_NOT_SIGNED_IN ? "signed-out" : "not-allowed");
      if (options.onRefused) options.onRefused(code, live);
    }

    function schedule() {
      const delay = backoff(attempts);
      attempts += 1;
      retryAt = Date.now() + delay;
      clearTimers();
      retryTimer = setTimeout(open, delay);
      if (navigator.onLine === false) { setState("offline"); return; }
      setState("reconnecting");
      tickTimer = setInterval(tick, 1000);
    }

    function clearTimers() {
      if (retryTimer) clearTimeout(retryTimer);
      if (tickTimer) clearInterval(tickTimer);
      retryTimer = tickTimer = null;
    }

    function send(message) {
      if (!ready || !socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    }

    // Waiting for a timer makes no sense once the network or the tab is back: try now.
    function retryNow() {
      if (retryTimer && !stopped && navigator.onLine !== false) open();
    }
    window.addEventListener("online", retryNow);
    window.addEventListener("offline", () => { if (live.state === "reconnecting") setState("offline"); });
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") retryNow(); });

    open();
    return live;
  }

  window.LiveSocket = { connect, Outbox, backoff, CLOSE_NOT_SIGNED_IN, CLOSE_NOT_ALLOWED };
})();
