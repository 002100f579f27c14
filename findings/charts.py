"""Server-side SVG charts for the report (WeasyPrint runs no JavaScript).

They draw the same chart specifications the findings pages hand to Chart.js, so the report's
charts show the pages' numbers.
"""

from __future__ import annotations

import itertools
import math

from django.utils.html import escape

FONT = "font-family='Helvetica, Arial, sans-serif'"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 10,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = "#212529",
) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' font-weight='{weight}' "
        f"fill='{fill}' {FONT}>{escape(text)}</text>"
    )


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _legend(datasets: list[dict], x: float, y: float, width: float) -> tuple[str, float]:
    parts, cx, cy = [], x, y
    for ds in datasets:
        label = _truncate(str(ds["label"]), 40)
        w = 16 + 6 * len(label) + 14
        if cx + w > x + width:
            cx, cy = x, cy + 16
        parts.append(
            f"<rect x='{cx:.1f}' y='{cy - 9:.1f}' width='10' height='10' fill='{ds.get('color', '#0b4f6c')}'/>"
        )
        parts.append(_text(cx + 14, cy, label, size=9))
        cx += w
    return "".join(parts), cy + 10


def bar_svg(spec: dict, *, width: int = 640) -> str:
    labels = [str(label) for label in spec.get("labels", [])]
    datasets = spec.get("datasets", [])
    if not labels or not datasets:
        return ""
    stacked = bool(spec.get("stacked"))
    percent = bool(spec.get("percent"))
    horizontal = bool(spec.get("horizontal"))
    totals = [sum(float(ds["data"][i] or 0) for ds in datasets) for i in range(len(labels))]
    peak = max(totals) if stacked else max((float(v or 0) for ds in datasets for v in ds["data"]), default=0)
    top = 100.0 if percent and (stacked or peak <= 100) else (peak or 1.0)
    legend_svg, legend_bottom = _legend(datasets, 10, 14, width - 20) if len(datasets) > 1 else ("", 6)
    out = []
    if horizontal:
        label_w = min(260, max(60, 6 * max(len(_truncate(label, 45)) for label in labels)))
        row_h = 22 if stacked or len(datasets) == 1 else 10 + 10 * len(datasets)
        plot_x, plot_w = label_w + 16, width - label_w - 60
        plot_y = legend_bottom + 8
        height = int(plot_y + row_h * len(labels) + 30)
        for i, label in enumerate(labels):
            y0 = plot_y + i * row_h
            out.append(_text(plot_x - 6, y0 + row_h / 2 + 4, _truncate(label, 45), anchor="end", size=9))
            offset = 0.0
            for j, ds in enumerate(datasets):
                value = float(ds["data"][i] or 0)
                w = plot_w * value / top
                if stacked:
                    out.append(
                        f"<rect x='{plot_x + offset:.1f}' y='{y0 + 3:.1f}' width='{w:.1f}' height='{row_h - 6:.1f}' fill='{ds.get('color', '#0b4f6c')}'/>"
                    )
                    offset += w
                else:
                    bh = (row_h - 6) / len(datasets)
                    out.append(
                        f"<rect x='{plot_x:.1f}' y='{y0 + 3 + j * bh:.1f}' width='{w:.1f}' height='{bh:.1f}' fill='{ds.get('color', '#0b4f6c')}'/>"
                    )
                    if len(datasets) == 1:
                        out.append(_text(plot_x + w + 4, y0 + row_h / 2 + 4, _fmt(value, percent), size=9))
            if stacked:
                out.append(
                    _text(plot_x + offset + 4, y0 + row_h / 2 + 4, _fmt(totals[i], percent and not stacked), size=9)
                )
        axis_y = plot_y + row_h * len(labels)
        out.append(f"<line x1='{plot_x}' y1='{plot_y}' x2='{plot_x}' y2='{axis_y}' stroke='#6c757d'/>")
        out.append(_text(plot_x, axis_y + 14, "0", size=9, anchor="middle"))
        out.append(_text(plot_x + plot_w, axis_y + 14, _fmt(top, percent), size=9, anchor="middle"))
    else:
        plot_x, plot_w = 44, width - 60
        plot_y, plot_h = legend_bottom + 8, 200
        height = int(plot_y + plot_h + 70)
        group_w = plot_w / len(labels)
        counts = not percent and all(float(v or 0).is_integer() for ds in datasets for v in ds["data"])
        top, ticks = _count_ticks(top) if counts else (top, [top * tick / 4 for tick in range(5)])
        for value in ticks:
            y = plot_y + plot_h - plot_h * value / top
            out.append(f"<line x1='{plot_x}' y1='{y:.1f}' x2='{plot_x + plot_w}' y2='{y:.1f}' stroke='#dee2e6'/>")
            out.append(_text(plot_x - 4, y + 3, _fmt(value, percent), size=8, anchor="end"))
        for i, label in enumerate(labels):
            gx = plot_x + i * group_w
            offset = 0.0
            for j, ds in enumerate(datasets):
                value = float(ds["data"][i] or 0)
                h = plot_h * value / top
                if stacked:
                    bw = group_w * 0.6
                    out.append(
                        f"<rect x='{gx + group_w * 0.2:.1f}' y='{plot_y + plot_h - offset - h:.1f}' width='{bw:.1f}' height='{h:.1f}' fill='{ds.get('color', '#0b4f6c')}'/>"
                    )
                    offset += h
                else:
                    bw = group_w * 0.7 / len(datasets)
                    x = gx + group_w * 0.15 + j * bw
                    out.append(
                        f"<rect x='{x:.1f}' y='{plot_y + plot_h - h:.1f}' width='{bw:.1f}' height='{h:.1f}' fill='{ds.get('color', '#0b4f6c')}'/>"
                    )
                    if len(labels) * len(datasets) <= 16:
                        out.append(
                            _text(x + bw / 2, plot_y + plot_h - h - 3, _fmt(value, percent), size=8, anchor="middle")
                        )
            short = _truncate(label, max(6, int(group_w / 5.5)))
            out.append(_text(gx + group_w / 2, plot_y + plot_h + 14, short, size=9, anchor="middle"))
        out.append(
            f"<line x1='{plot_x}' y1='{plot_y + plot_h}' x2='{plot_x + plot_w}' y2='{plot_y + plot_h}' stroke='#6c757d'/>"
        )
    return _svg(width, height, spec.get("title", ""), legend_svg + "".join(out))


def scatter_svg(spec: dict, *, width: int = 560, height: int = 420) -> str:
    points = spec.get("points") or []
    plot_x, plot_y, plot_w, plot_h = 56, 20, width - 76, height - 70
    out = []

    def px(v: float) -> float:
        return plot_x + plot_w * v / 100.0

    def py(v: float) -> float:
        return plot_y + plot_h - plot_h * v / 100.0

    out.append(f"<rect x='{plot_x}' y='{plot_y}' width='{plot_w}' height='{plot_h}' fill='#f8f9fa' stroke='#adb5bd'/>")
    quadrants = spec.get("quadrants") or {}
    split = quadrants.get("split")
    if split is not None:
        out.append(
            f"<line x1='{px(split):.1f}' y1='{plot_y}' x2='{px(split):.1f}' y2='{plot_y + plot_h}' stroke='#6c757d' stroke-dasharray='4 4'/>"
        )
        out.append(
            f"<line x1='{plot_x}' y1='{py(split):.1f}' x2='{plot_x + plot_w}' y2='{py(split):.1f}' stroke='#6c757d' stroke-dasharray='4 4'/>"
        )
        labels = quadrants.get("labels", {})
        out.append(_text(plot_x + 6, plot_y + 14, labels.get("top_left", ""), size=9, fill="#495057"))
        out.append(
            _text(plot_x + plot_w - 6, plot_y + 14, labels.get("top_right", ""), size=9, anchor="end", fill="#495057")
        )
        out.append(_text(plot_x + 6, plot_y + plot_h - 6, labels.get("bottom_left", ""), size=9, fill="#495057"))
        out.append(
            _text(
                plot_x + plot_w - 6,
                plot_y + plot_h - 6,
                labels.get("bottom_right", ""),
                size=9,
                anchor="end",
                fill="#495057",
            )
        )
    for tick in (0, 25, 50, 75, 100):
        out.append(_text(px(tick), plot_y + plot_h + 14, f"{tick}", size=8, anchor="middle"))
        out.append(_text(plot_x - 6, py(tick) + 3, f"{tick}", size=8, anchor="end"))
    out.append(_text(plot_x + plot_w / 2, height - 14, spec.get("x_label", ""), size=10, anchor="middle"))
    out.append(
        f"<text x='14' y='{plot_y + plot_h / 2:.1f}' font-size='10' text-anchor='middle' {FONT} "
        f"transform='rotate(-90 14 {plot_y + plot_h / 2:.1f})'>{escape(spec.get('y_label', ''))}</text>"
    )
    colour = spec.get("color", "#0b4f6c")
    for point in points:
        out.append(
            f"<circle cx='{px(point['x']):.1f}' cy='{py(point['y']):.1f}' r='4' fill='{colour}' fill-opacity='0.75'><title>{escape(point.get('label', ''))}</title></circle>"
        )
    return _svg(width, height, spec.get("title", ""), "".join(out))


def doughnut_svg(spec: dict, *, width: int = 420) -> str:
    """Drawn as a single 100 % stacked bar with a legend: clearer in print than a ring."""
    ds = (spec.get("datasets") or [{}])[0]
    values = [float(v or 0) for v in ds.get("data", [])]
    total = sum(values) or 1.0
    colours = ds.get("colors") or ["#0b4f6c", "#b3461f", "#3a7d44", "#6f42c1"]
    out, x = [], 10.0
    for i, value in enumerate(values):
        w = (width - 20) * value / total
        out.append(f"<rect x='{x:.1f}' y='10' width='{w:.1f}' height='26' fill='{colours[i % len(colours)]}'/>")
        x += w
    legend = [
        {"label": f"{label}: {int(values[i])} ({100 * values[i] / total:.0f} %)", "color": colours[i % len(colours)]}
        for i, label in enumerate(spec.get("labels", []))
    ]
    legend_svg, bottom = _legend(legend, 10, 56, width - 20)
    return _svg(width, int(bottom + 10), spec.get("title", ""), "".join(out) + legend_svg)


def chart_svg(spec: dict) -> str:
    kind = spec.get("type")
    if kind == "scatter":
        return scatter_svg(spec)
    if kind == "doughnut":
        return doughnut_svg(spec)
    return bar_svg(spec)


def _count_ticks(peak: float) -> tuple[float, list[float]]:
    """A count axis: (its top, its ticks), whole numbers at a round step (1, 2, 5, 10, 20, ...)."""
    steps = (m * 10**e for e in itertools.count() for m in (1, 2, 5))
    step = next(s for s in steps if peak / s <= 5)
    top = step * max(1, math.ceil(peak / step))
    return float(top), [float(v) for v in range(0, top + 1, step)]


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0f} %"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
        f"role='img' aria-label='{escape(title)}'><title>{escape(title)}</title>{body}</svg>"
    )
