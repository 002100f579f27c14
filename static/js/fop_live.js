// Live FOP page: who else is looking (presence) and changes by others appear without reloading.
// The socket only listens; every change goes through the forms (htmx or plain POST). Without
// websockets the page still works: reload to see others' changes. The connection (backoff,
// status, refusals) is static/js/live_socket.js, loaded first.
(function () {
  "use strict";

  const script = document.getElementById("fop-script");
  const badge = document.getElementById("fop-live");
  const list = document.getElementById("fop-presence");
  const events = document.getElementById("fop-events");
  if (!script || !("WebSocket" in window) || !window.LiveSocket) return;
  const present = new Map(); // connection id -> display name

  function setLive(live) {
    window.fopLive = live;
    document.body.dataset.fopLive = live ? "1" : "0";
  }

  function renderPresence() {
    if (!list) return;
    const names = Array.from(new Set(present.values())).sort();
    list.replaceChildren();
    if (!names.length) {
      const li = document.createElement("li");
      li.className = "list-inline-item text-body-secondary";
      li.dataset.empty = "";
      li.textContent = "nobody else";
      list.appendChild(li);
      return;
    }
    for (const name of names) {
      const li = document.createElement("li");
      li.className = "list-inline-item badge text-bg-light border presence-name";
      li.textContent = name;
      list.appendChild(li);
    }
  }

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("fop:changed"));
  }

  // Our own change comes back over the socket too. While one of our own requests is in flight,
  // wait for it (its response is rendered after that commit), then refresh only if the page still
  // shows an older state (a different newest history hash). Requests are tracked on the XHR itself,
  // because the element that sent one may be replaced before the response arrives.
  let inFlight = 0;
  let waitingHash = null;
  const currentHash = () => {
    const body = document.getElementById("fop-body");
    return body ? body.dataset.historyHash : null;
  };
  function settle() {
    if (inFlight > 0 || waitingHash === null) return;
    const hash = waitingHash;
    waitingHash = null;
    if (hash !== currentHash()) refresh();
  }
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const config = event.detail.requestConfig;
    const xhr = event.detail.xhr;
    if (!config || config.verb === "get" || !xhr) return;
    inFlight += 1;
    xhr.addEventListener("loadend", () => {
      inFlight = Math.max(0, inFlight - 1);
      setTimeout(settle, 50); // after htmx has swapped the response in
    });
  });
  function changed(hash) {
    if (inFlight > 0) {
      waitingHash = hash;
      return;
    }
    if (hash && hash === currentHash()) return;
    refresh();
  }

  function handle(message, live) {
    if (message.type === "hello") {
      // Catch up only if something was committed between the page and the socket.
      if (message.history_hash !== currentHash()) refresh();
    } else if (message.type === "presence") {
      if (message.action === "leave") present.delete(message.id);
      else present.set(message.id, message.name);
      renderPresence();
    } else if (message.type === "changed") {
      if (events) events.textContent = `${message.actor}: ${message.summary}`;
      if (message.action === "delete") {
        live.finish("This FOP was deleted");
        return;
      }
      changed(message.history_hash);
    }
  }

  setLive(false);
  window.LiveSocket.connect({
    path: script.dataset.wsPath,
    status: badge,
    isReady: (message) => message.type === "hello",
    onMessage: handle,
    onState(state) {
      setLive(state === "live");
      if (state !== "live" && state !== "finished") {
        // Whoever was here is unknown until the next connection's answers.
        present.clear();
        renderPresence();
      }
    },
    whileDown: "Reload to see changes.",
  });
})();
