// Bar chart of mean impact and feasibility per solution (data from the json_script tag).
(function () {
  const dataEl = document.getElementById("results-data");
  const canvas = document.getElementById("results-chart");
  if (!dataEl || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(dataEl.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Impact (mean)", data: data.impact, backgroundColor: "#0b4f6c" },
        { label: "Feasibility (mean)", data: data.feasibility, backgroundColor: "#b3461f" },
      ],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
      scales: { x: { min: 0, max: 5, ticks: { stepSize: 1 } }, y: { ticks: { autoSkip: false } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
})();
