"""Chart geometry for the dashboards' server-rendered SVG.

Positions and sizes are computed here; the templates only write them out, so every label goes
through Jinja's autoescaping. Colours come from classes in ``dashboard.css`` (the CSP forbids
inline styles); each bar is a link to the list behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560
ROW = 28
BAR = 18
LABEL = 200  # room left of the bars for their labels
TOP = 8
MAX_LABEL = 30


def short(label: str, limit: int = MAX_LABEL) -> str:
    """A label cut to fit its column; the full text stays in the bar's <title>."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    value: int
    css: str
    href: str
    title: str


@dataclass(frozen=True)
class Row:
    label: str
    full_label: str
    y: float
    text_y: float
    segments: tuple[Segment, ...]
    total: int
    total_x: float


@dataclass(frozen=True)
class HorizontalChart:
    """Horizontal bars, one row per item; a row may be split into segments (stacked)."""

    id: str
    title: str
    description: str
    width: int
    height: int
    label_x: int
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Item:
    label: str
    parts: Sequence[tuple[int, str, str, str]]  # value, css class, href, title


def horizontal(
    chart_id: str, title: str, description: str, items: Sequence[Item]
) -> HorizontalChart:
    largest = max((sum(p[0] for p in item.parts) for item in items), default=0) or 1
    room = WIDTH - LABEL - 60
    rows = []
    for index, item in enumerate(items):
        y = TOP + index * ROW
        x = float(LABEL)
        segments = []
        for value, css, href, part_title in item.parts:
            width = room * value / largest
            if value:
                segments.append(Segment(x, max(width, 2.0), value, css, href, part_title))
            x += width
        total = sum(p[0] for p in item.parts)
        rows.append(
            Row(
                label=short(item.label),
                full_label=item.label,
                y=y,
                text_y=y + BAR - 4,
                segments=tuple(segments),
                total=total,
                total_x=x + 6,
            )
        )
    return HorizontalChart(
        id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=TOP * 2 + max(1, len(rows)) * ROW,
        label_x=LABEL - 8,
        rows=tuple(rows),
    )


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    value: int
    css: str
    href: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class ColumnChart:
    """Grouped vertical columns: one group per week, one column per series."""

    id: str
    title: str
    description: str
    width: int
    height: int
    baseline: float
    label_y: float
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str], ...]  # css class, label


def columns(
    chart_id: str,
    title: str,
    description: str,
    groups: Sequence[tuple[str, Sequence[tuple[int, str, str, str]]]],
    legend: Sequence[tuple[str, str]],
) -> ColumnChart:
    """`groups`: (tick label, [(value, css class, href, title), …]) in order."""
    height = 220
    plot = 170.0
    left = 10.0
    largest = max((v for _, series in groups for v, *_ in series), default=0) or 1
    per_group = max(1, max((len(series) for _, series in groups), default=1))
    group_width = (WIDTH - left * 2) / max(1, len(groups))
    column_width = max(2.0, (group_width - 6) / per_group)
    cols = []
    ticks = []
    for index, (label, series) in enumerate(groups):
        x0 = left + index * group_width + 3
        for position, (value, css, href, col_title) in enumerate(series):
            h = plot * value / largest
            cols.append(
                Column(
                    x=x0 + position * column_width,
                    y=TOP + plot - h,
                    width=column_width - 1,
                    height=max(h, 1.0 if value else 0.0),
                    value=value,
                    css=css,
                    href=href,
                    title=col_title,
                )
            )
        ticks.append(Tick(x0 + (group_width - 6) / 2, label))
    # Every tick would overlap past a dozen weeks: keep one in n.
    step = max(1, -(-len(ticks) // 12))
    return ColumnChart(
        id=chart_id,
        title=title,
        description=description,
        width=WIDTH,
        height=height,
        baseline=TOP + plot,
        label_y=TOP + plot + 18,
        columns=tuple(cols),
        ticks=tuple(ticks[::step]),
        legend=tuple(legend),
    )
