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

// A long list of checkboxes ([data-choice-filter="<the box's accessible name>"]) gets a box that hides the choices
// whose label does not contain what is typed. Without this file the whole list stays, scrollable.
(function () {
  const setUp = (list) => {
    if (list.dataset.choiceFilterReady) return;
    list.dataset.choiceFilterReady = "1";
    const input = document.createElement("input");
    input.type = "text";
    input.className = "form-control form-control-sm mb-2 choice-filter";
    input.placeholder = "Type to filter the list…";
    input.setAttribute("aria-label", list.dataset.choiceFilter);
    input.autocomplete = "off";
    const rows = () => list.querySelectorAll(".form-check");
    input.addEventListener("input", (event) => {
      event.stopPropagation(); // typing here filters the list; it is not a change of the form
      const wanted = input.value.trim().toLowerCase();
      rows().forEach((row) => { row.hidden = !!wanted && !row.textContent.toLowerCase().includes(wanted); });
    });
    input.addEventListener("change", (event) => event.stopPropagation());
    input.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });
    list.prepend(input);
  };
  const scan = (root) => (root || document).querySelectorAll("[data-choice-filter]").forEach(setUp);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => scan());
  else scan();
  document.addEventListener("htmx:afterSettle", (event) => scan(event.detail.target));
})();

// A link with data-dialog="ID" opens that <dialog> instead of going to its page (the same
// confirmation, as a page of its own, is what the link leads to without this file).
document.addEventListener("click", (event) => {
  const opener = event.target.closest && event.target.closest("a[data-dialog]");
  if (!opener) return;
  const dialog = document.getElementById(opener.dataset.dialog);
  if (!dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  dialog.showModal();
});
