"""Chart geometry for the reports page, drawn as inline SVG by the template.

The server computes every rectangle, tick and label, so the charts need no script and a
chart is plain markup a test can read. Bars carry the link to the cases behind them. Text
goes into the template as data and is escaped there like everything else.
"""

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 56
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 12
# Steps for a time axis, in seconds: the first giving at most five ticks is used.
TIME_STEPS = (
    [minutes * 60 for minutes in (1, 2, 5, 10, 15, 30)]
    + [hours * 3600 for hours in (1, 2, 4, 6, 12)]
    + [days * 86400 for days in (1, 2, 7, 14, 30)]
)


def human_duration(seconds: float | None) -> str:
    """12 min, 6 h 5 min, 2 d 3 h; seconds only under a minute; — without a value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass
class Series:
    name: str
    css: str  # a class of app.css/reports' palette: colour lives in the stylesheet


@dataclass
class Bar:
    label: str  # the x-axis category
    values: list[float | None]  # one per series, stacked bottom to top
    href: str = ""
    hrefs: list[str] = field(default_factory=list)  # per segment, overriding href
    target: float | None = None  # a marker across this bar (e.g. its tier's target)


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    y_label: str
    x_label: str
    series: list[Series]
    bars: list[Bar]
    time_axis: bool = False
    lines: list[tuple[float, str]] = field(default_factory=list)  # (value, label) across all

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "—"
        return human_duration(value) if self.time_axis else f"{value:g}"

    def layout(self) -> dict:
        """Everything the template draws, in SVG user units."""
        top_value = max(
            [sum(v or 0 for v in bar.values) for bar in self.bars]
            + [bar.target or 0 for bar in self.bars]
            + [value for value, _ in self.lines],
            default=0,
        )
        step = _time_step(top_value) if self.time_axis else _nice_step(top_value)
        scale_max = step * max(1, math.ceil(top_value / step)) if top_value else step

        def y(value: float) -> float:
            return round(TOP + PLOT_H - value / scale_max * PLOT_H, 1)

        count = max(len(self.bars), 1)
        slot = PLOT_W / count
        bar_w = round(max(min(slot * 0.7, 60), 1), 1)
        every = max(1, math.ceil(count / MAX_X_LABELS))
        bars = []
        for index, bar in enumerate(self.bars):
            x = round(LEFT + slot * index + (slot - bar_w) / 2, 1)
            base = 0.0
            segments = []
            for number, (series, value) in enumerate(zip(self.series, bar.values, strict=True)):
                if not value:
                    continue
                href = bar.hrefs[number] if number < len(bar.hrefs) else bar.href
                segments.append(
                    {
                        "x": x,
                        "y": y(base + value),
                        "width": bar_w,
                        "height": round(y(base) - y(base + value), 1),
                        "css": series.css,
                        "href": href,
                        "title": f"{bar.label}: {series.name} {self.fmt(value)}",
                    }
                )
                base += value
            bars.append(
                {
                    "segments": segments,
                    "label": bar.label if index % every == 0 else "",
                    "label_x": round(x + bar_w / 2, 1),
                    "target_y": y(bar.target) if bar.target is not None else None,
                    "target_x1": round(x - 3, 1),
                    "target_x2": round(x + bar_w + 3, 1),
                }
            )
        table = [
            {
                "label": bar.label,
                "cells": [
                    {
                        "text": self.fmt(value),
                        "href": bar.hrefs[n] if n < len(bar.hrefs) else bar.href,
                    }
                    for n, value in enumerate(bar.values)
                ],
                "target": self.fmt(bar.target) if bar.target is not None else "",
            }
            for bar in self.bars
        ]
        ticks = [
            {"y": y(step * i), "label": self.fmt(step * i) if i else "0"}
            for i in range(round(scale_max / step) + 1)
        ]
        return {
            "width": WIDTH,
            "height": HEIGHT,
            "left": LEFT,
            "right": WIDTH - RIGHT,
            "top": TOP,
            "bottom": TOP + PLOT_H,
            "label_y": TOP + PLOT_H + 16,
            "x_title_x": LEFT + PLOT_W / 2,
            "x_title_y": HEIGHT - 8,
            "y_title_y": TOP + PLOT_H / 2,
            "bars": bars,
            "ticks": ticks,
            "table": table,
            "has_targets": any(bar.target is not None for bar in self.bars),
            "lines": [{"y": y(v), "label": label} for v, label in self.lines],
            "is_empty": top_value == 0,
        }


def _nice_step(top: float) -> float:
    """1, 2 or 5 × 10^k, giving about five ticks."""
    if top <= 0:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return max(multiple * power, 1)
    return 10 * power


def _time_step(top: float) -> float:
    for step in TIME_STEPS:
        if top / step <= 5:
            return step
    return _nice_step(top / 86400) * 86400


def dashboard_charts(
    report: dict, rows: list[dict], days: list[dict], ages: list[dict], tiers: list
) -> list[dict]:
    """The four charts of the reports page, each as {"chart": Chart, "layout": {...}}."""
    built = [
        _volume(days),
        _first_response(report, rows, tiers),
        _sentiment(days),
        _backlog(ages),
    ]
    return [{"chart": chart, "layout": chart.layout()} for chart in built]


def _day(value) -> str:
    return f"{value:%b} {value.day}"


def _volume(days: list[dict]) -> Chart:
    total = sum(d["cases"] for d in days)
    breached = sum(d["breaches"] for d in days)
    busiest = max(days, key=lambda d: d["cases"], default=None)
    summary = f"{total} cases in {len(days)} days, {breached} of them breached an SLA target"
    if busiest and busiest["cases"]:
        summary += f"; most on {_day(busiest['day'])} ({busiest['cases']})"
    return Chart(
        slug="volume",
        title="New cases per day",
        description=summary + ".",
        y_label="cases",
        x_label="day the customer first wrote (UTC)",
        series=[Series("within targets", "s-ok"), Series("breached", "s-breach")],
        bars=[
            Bar(_day(d["day"]), [d["cases"] - d["breaches"], d["breaches"]], href=d["href"])
            for d in days
        ],
    )


FIRST_RESPONSE_BARS = 15


def _first_response(report: dict, rows: list[dict], tiers: list) -> Chart:
    by_tier = report["group_by"] == "tier"
    targets = {t.slug: t.first_response_minutes * 60 for t in tiers}
    answered = [
        (group, row)
        for group, row in zip(report["groups"], rows, strict=True)
        if group["first_response"]["median"] is not None
    ]
    shown = answered[:FIRST_RESPONSE_BARS]
    title = f"Median first response per {report['group_by']}"
    if len(answered) > len(shown):
        title += f" ({len(shown)} with most cases)"
    parts = [
        f"{g['key']} {human_duration(g['first_response']['median'])}"
        + (
            f" (target {human_duration(targets[g['key']])})"
            if by_tier and g["key"] in targets
            else ""
        )
        for g, _ in shown
    ]
    description = "Median first response: " + ("; ".join(parts) if parts else "no responses")
    lines = (
        []
        if by_tier
        else [
            (seconds, f"{slug} target {human_duration(seconds)}")
            for slug, seconds in targets.items()
        ]
    )
    if shown and lines:
        # Only the target lines near the bars: a 4 h line would flatten 10 min bars.
        top = max(g["first_response"]["median"] for g, _ in shown)
        lines = [line for line in lines if line[0] <= top * 1.5]
    return Chart(
        slug="first-response",
        title=title,
        description=description + ".",
        y_label="median first response",
        x_label=report["group_by"],
        series=[Series("median first response", "s-time")],
        bars=[
            Bar(
                g["key"],
                [g["first_response"]["median"]],
                href=row["href"],
                target=targets.get(g["key"]) if by_tier else None,
            )
            for g, row in shown
        ],
        time_axis=True,
        lines=lines,
    )


def _sentiment(days: list[dict]) -> Chart:
    totals = {name: sum(d[name] for d in days) for name in ("negative", "neutral", "positive")}
    all_cases = sum(totals.values())
    if all_cases:
        mix = ", ".join(f"{round(n * 100 / all_cases)} % {name}" for name, n in totals.items())
    else:
        mix = "no cases"
    return Chart(
        slug="sentiment",
        title="Sentiment of new cases per day",
        description=f"Sentiment mix over the period: {mix}.",
        y_label="cases",
        x_label="day the customer first wrote (UTC)",
        series=[
            Series("negative", "s-negative"),
            Series("neutral", "s-neutral"),
            Series("positive", "s-positive"),
        ],
        bars=[
            Bar(
                _day(d["day"]),
                [d["negative"], d["neutral"], d["positive"]],
                hrefs=d["sentiment_hrefs"],
            )
            for d in days
        ],
    )


def _backlog(ages: list[dict]) -> Chart:
    parts = ", ".join(f"{b['label']}: {b['cases']}" for b in ages)
    return Chart(
        slug="backlog",
        title="Open cases by age (now)",
        description=f"Open cases by time since the customer first wrote: {parts}.",
        y_label="open cases",
        x_label="age",
        series=[Series("open cases", "s-backlog")],
        bars=[Bar(b["label"], [b["cases"]], href=b["href"]) for b in ages],
    )
