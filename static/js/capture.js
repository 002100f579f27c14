// Live capability capture: listen on the cycle's capture socket and refresh the statement list
// when anything changes. Without this script (or without websockets) the list polls every 15 s.
(function () {
  const script = document.getElementById("capture-script");
  const badge = document.getElementById("capture-live");
  if (!script || !("WebSocket" in window)) return;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + script.dataset.wsPath;
  let delay = 1000;

  function setLive(live) {
    window.captureLive = live;
    if (!badge) return;
    badge.textContent = live ? badge.dataset.liveLabel : badge.dataset.offlineLabel;
    badge.classList.toggle("text-bg-success", live);
    badge.classList.toggle("text-bg-secondary", !live);
  }

  function refresh() {
    document.body.dispatchEvent(new CustomEvent("capture:changed"));
  }

  function connect() {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      delay = 1000;
      setLive(true);
      refresh(); // catch up with anything committed while we were away
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "capture") refresh();
    });
    socket.addEventListener("close", (event) => {
      setLive(false);
      if (event.code === 4401 || event.code === 4404) return; // not allowed: keep polling only
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
