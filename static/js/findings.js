// Findings charts: each <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">, which
// the server builds from the same data as the table beside it. Re-drawn after every htmx swap.
(function () {
  "use strict";
  const charts = new Map();

  const quadrantPlugin = {
    id: "quadrants",
    afterDraw(chart, _args, opts) {
      if (!opts || opts.split === undefined) return;
      const { ctx, chartArea, scales } = chart;
      const x = scales.x.getPixelForValue(opts.split);
      const y = scales.y.getPixelForValue(opts.split);
      ctx.save();
      ctx.strokeStyle = "#6c757d";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top); ctx.lineTo(x, chartArea.bottom);
      ctx.moveTo(chartArea.left, y); ctx.lineTo(chartArea.right, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#495057";
      ctx.font = "12px system-ui, sans-serif";
      const pad = 6;
      const labels = opts.labels || {};
      ctx.textAlign = "left"; ctx.textBaseline = "top";
      ctx.fillText(labels.top_left || "", chartArea.left + pad, chartArea.top + pad);
      ctx.textAlign = "right";
      ctx.fillText(labels.top_right || "", chartArea.right - pad, chartArea.top + pad);
      ctx.textBaseline = "bottom"; ctx.textAlign = "left";
      ctx.fillText(labels.bottom_left || "", chartArea.left + pad, chartArea.bottom - pad);
      ctx.textAlign = "right";
      ctx.fillText(labels.bottom_right || "", chartArea.right - pad, chartArea.bottom - pad);
      ctx.restore();
    },
  };

  function config(spec) {
    if (spec.type === "scatter") {
      return {
        type: "scatter",
        data: { datasets: [{ label: spec.title, data: spec.points, backgroundColor: spec.color, pointRadius: 5 }] },
        options: {
          responsive: true, maintainAspectRatio: false,
          scales: {
            x: { min: 0, max: 100, title: { display: true, text: spec.x_label } },
            y: { min: 0, max: 100, title: { display: true, text: spec.y_label } },
          },
          plugins: {
            legend: { display: false },
            quadrants: spec.quadrants,
            tooltip: { callbacks: { label: (item) => `${item.raw.label}: fit ${item.raw.x.toFixed(1)} %, surplus ${item.raw.y.toFixed(1)} %` } },
          },
        },
        plugins: [quadrantPlugin],
      };
    }
    if (spec.type === "doughnut") {
      const ds = spec.datasets[0];
      return {
        type: "doughnut",
        data: { labels: spec.labels, datasets: [{ label: ds.label, data: ds.data, backgroundColor: ds.colors }] },
        options: { responsive: true, maintainAspectRatio: false },
      };
    }
    const horizontal = !!spec.horizontal;
    const valueAxis = horizontal ? "x" : "y";
    const scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked } };
    scales[valueAxis].beginAtZero = true;
    if (spec.percent) {
      scales[valueAxis].max = 100;
      scales[valueAxis].ticks = { callback: (v) => v + " %" };
    } else {
      // Every other bar chart counts things (capabilities, FOPs, tags): whole-number ticks only.
      scales[valueAxis].ticks = { precision: 0 };
    }
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map((d) => ({ label: d.label, data: d.data, backgroundColor: d.color })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true, maintainAspectRatio: false,
        scales: scales,
        plugins: { legend: { display: spec.datasets.length > 1 } },
      },
    };
  }

  function draw(root) {
    if (typeof Chart === "undefined") return;
    (root || document).querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const previous = charts.get(canvas.dataset.chart);
      if (previous) previous.destroy();
      const spec = JSON.parse(source.textContent);
      const box = canvas.parentElement;
      const rows = spec.horizontal ? (spec.labels || []).length : 0;
      box.style.height = Math.max(260, Math.min(900, rows * 26 + 80)) + "px";
      charts.set(canvas.dataset.chart, new Chart(canvas, config(spec)));
    });
  }

  // Multi-choice filters: the closed list says what is ticked; a click elsewhere or Escape closes it.
  document.addEventListener("change", (event) => {
    const box = event.target.closest && event.target.closest(".filter-multi");
    if (!box || event.target.type !== "checkbox") return;
    const summary = box.querySelector("summary");
    const ticked = [...box.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.labels[0].textContent.trim());
    summary.textContent = !ticked.length ? summary.dataset.all : ticked.length <= 2 ? ticked.join(", ") : `${ticked.length} chosen`;
  });
  const closeFilters = (except) => document.querySelectorAll(".filter-multi-details[open]").forEach((d) => {
    if (d !== except) d.open = false;
  });
  document.addEventListener("click", (event) => closeFilters(event.target.closest && event.target.closest(".filter-multi-details")));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = document.querySelector(".filter-multi-details[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSettle", (event) => draw(event.detail.target));
})();
