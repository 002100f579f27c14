// Small progressive enhancements shared by every page. Pages work without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  const main = event.detail.target.querySelector && event.detail.target.querySelector("[autofocus]");
  if (main) main.focus();
});

// Projector view: larger type for a room screen, remembered per browser.
(function () {
  const key = "foresight-projector";
  const apply = (on) => {
    document.body.classList.toggle("projector-mode", on);
    const button = document.getElementById("projector-toggle");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  };
  const ready = () => {
    apply(localStorage.getItem(key) === "1");
    const button = document.getElementById("projector-toggle");
    if (button) {
      button.addEventListener("click", () => {
        const on = !document.body.classList.contains("projector-mode");
        localStorage.setItem(key, on ? "1" : "0");
        apply(on);
      });
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();

// Keep the focus somewhere sensible after htmx replaces the element that had it (keyboard users).
document.addEventListener("htmx:afterSettle", (event) => {
  if (document.activeElement && document.activeElement !== document.body) return;
  const target = event.detail.target;
  if (target && target.isConnected) {
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }
});
