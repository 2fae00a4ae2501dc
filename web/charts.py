"""Bar charts as SVG, drawn on the server: no script, nothing loaded from elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 34, 56
COLORS = ("#1f4e79", "#5b9bd5", "#e07b00", "#2e7d32")


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
         unit: str = "") -> str:
    """Grouped vertical bars: one group per label, one bar per series, values on top."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=0) or 1.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'class="chart" role="img" aria-label="{escape(title)}">',
           f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" class="chart-title">{escape(title)}'
           f'{escape(f"（{unit}）") if unit else ""}</text>',
           f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
           f'stroke="#888"/>']
    if not labels or not values:
        out.append(f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                   f'class="chart-empty">本期无数据</text></svg>')
        return "".join(out)
    group_w = plot_w / len(labels)
    bar_w = max(2.0, group_w * 0.8 / len(series))
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_w + group_w * 0.1
        for j, (_, vs) in enumerate(series):
            v = vs[i]
            if v is None:
                continue
            h = plot_h * v / top
            x, y = x0 + j * bar_w, TOP + plot_h - h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                       f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(label)} {v:g}</title></rect>')
            if len(labels) * len(series) <= 40:
                out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                           f'class="chart-value">{v:g}</text>')
        out.append(f'<text x="{LEFT + (i + 0.5) * group_w:.1f}" y="{TOP + plot_h + 16}" '
                   f'text-anchor="middle" class="chart-label">{escape(label)}</text>')
    if len(series) > 1:
        for j, (name, _) in enumerate(series):
            x = LEFT + j * 110
            out.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" '
                       f'fill="{COLORS[j % len(COLORS)]}"/><text x="{x + 16}" y="{HEIGHT - 8}" '
                       f'class="chart-label">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
