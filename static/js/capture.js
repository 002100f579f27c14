// Live capability capture: listen on the cycle's capture socket and refresh the statement list
// when anything changes. Without this script (or without websockets) the list polls every 15 s.
// The connection (backoff, status, refusals) is static/js/live_socket.js, loaded first.
(function () {
  "use strict";

  const script = document.getElementById("capture-script");
  if (!script || !("WebSocket" in window) || !window.LiveSocket) return;

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("capture:changed"));
  }

  window.captureLive = false;
  const status = document.getElementById("capture-live");
  const live = window.LiveSocket.connect({
    path: script.dataset.wsPath,
    status: status,
    isReady: (message) => message.type === "hello",
    onMessage(message) {
      if (message.type === "capture") refresh();
    },
    onState(state) {
      const live = state === "live";
      // Refused (signed out, removed): the status says why; the fallback poll stops too, so the
      // page keeps that sentence rather than jumping to the login form in the middle of it.
      if (state === "signed-out" || state === "not-allowed") window.captureStopped = true;
      // Catch up with anything committed while we were away.
      if (live && !window.captureLive) refresh();
      window.captureLive = live;
    },
    whileDown: "The list updates every 15 s meanwhile.",
  });

  // The fallback poll may be the first to learn that the session ended (the socket between two
  // attempts): htmx would follow the server's HX-Redirect to the login form in the middle of the
  // page. Say it as the socket's refusal would instead, and stop both.
  const loginUrl = (status && status.dataset.loginUrl) || "/accounts/login/";
  document.body.addEventListener("htmx:beforeOnLoad", (event) => {
    if (!event.detail.elt || event.detail.elt.id !== "capture-list") return;
    const redirect = event.detail.xhr.getResponseHeader("HX-Redirect") || "";
    if (!redirect.startsWith(loginUrl)) return;
    event.preventDefault();
    live.signedOut(); // its state stops the poll (onState above)
  });
})();
