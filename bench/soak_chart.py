"""A hand-written SVG line chart for the soak run: panels stacked over one time axis.

No plotting library: the chart is a few polylines, axes and labels, small enough to keep in
the repository and to read as text.
"""

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, PANEL_HEIGHT = 860, 230
LEFT, RIGHT, TOP, GAP = 64, 190, 50, 56
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


@dataclass
class Series:
    label: str
    points: list[tuple[float, float]]  # (seconds, value); None values are left out
    dashed: bool = False


@dataclass
class Panel:
    title: str
    unit: str
    series: list[Series]


def nice_step(span: float) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about five ticks."""
    if span <= 0:
        return 1.0
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(f * magnitude for f in (1, 2, 2.5, 5, 10) if raw <= f * magnitude)


def render(
    title: str, subtitle: str, panels: list[Panel], duration: float, markers: list[float]
) -> str:
    """The SVG document; each of `markers` draws a vertical line at that second."""
    height = TOP + len(panels) * (PANEL_HEIGHT + GAP) + 10
    plot_width = WIDTH - LEFT - RIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="15" font-weight="bold">{escape(title)}</text>',
        f'<text x="{LEFT}" y="36" fill="#444">{escape(subtitle)}</text>',
    ]
    duration = max(duration, 1.0)
    for k, panel in enumerate(panels):
        top = TOP + k * (PANEL_HEIGHT + GAP) + 18
        bottom = top + PANEL_HEIGHT - 30
        values = [v for s in panel.series for _, v in s.points if v is not None]
        highest = max(values, default=1.0) * 1.1 or 1.0
        step = nice_step(highest)

        def x(t: float) -> float:
            return LEFT + plot_width * t / duration

        def y(v: float, bottom=bottom, top=top, highest=highest) -> float:
            return bottom - (bottom - top) * v / highest

        out.append(
            f'<text x="{LEFT}" y="{top - 6}" font-weight="bold">{escape(panel.title)}</text>'
        )
        tick = 0.0
        while tick <= highest:
            out.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                'stroke="#e5e5e5"/>'
                f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
            )
            tick += step
        out.append(
            f'<text x="14" y="{(top + bottom) / 2:.0f}" transform="rotate(-90 14 '
            f'{(top + bottom) / 2:.0f})" text-anchor="middle">{escape(panel.unit)}</text>'
        )
        time_step = nice_step(duration)
        t = 0.0
        while t <= duration + 1e-9:
            out.append(
                f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{bottom}" y2="{bottom + 4}" '
                'stroke="#555"/>'
                f'<text x="{x(t):.1f}" y="{bottom + 16}" text-anchor="middle">{t:g}</text>'
            )
            t += time_step
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_width}" y1="{bottom}" y2="{bottom}" '
            'stroke="#555"/>'
        )
        for marker in markers:
            out.append(
                f'<line x1="{x(marker):.1f}" x2="{x(marker):.1f}" y1="{top}" y2="{bottom}" '
                'stroke="#999" stroke-dasharray="4 3"/>'
            )
        for n, series in enumerate(panel.series):
            colour = COLOURS[n % len(COLOURS)]
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in series.points if v is not None)
            dash = ' stroke-dasharray="5 3"' if series.dashed else ""
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="1.6"{dash}/>'
            )
            legend_y = top + 14 + 18 * n
            out.append(
                f'<line x1="{LEFT + plot_width + 12}" x2="{LEFT + plot_width + 32}" '
                f'y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
                f'<text x="{LEFT + plot_width + 38}" y="{legend_y}">{escape(series.label)}</text>'
            )
    out.append(
        f'<text x="{LEFT + plot_width / 2}" y="{height - 6}" text-anchor="middle">'
        "seconds since the load started</text></svg>"
    )
    return "\n".join(out)
