"""The timeline chart as inline SVG, laid out on the server (no chart script, nothing that a
strict Content-Security-Policy would block): a band of the breaker's states on top, the
backlog as a filled area and the failure ratio as a line below, over the same time axis.
``layout`` is pure: it turns a ``Timeline`` into shapes with coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field

from proofqueue.api import Timeline

WIDTH = 760
HEIGHT = 220
LEFT, RIGHT = 44, 40  # room for the backlog axis (left) and the ratio axis (right)
BAND_TOP, BAND_H = 6, 16
PLOT_TOP, PLOT_BOTTOM = 32, 196
STATES = ("OK", "DEGRADED", "RECOVERING")


@dataclass(frozen=True)
class Band:
    """One state segment of the top band."""

    x: float
    width: float
    state: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    """Shapes of the SVG, in its own coordinates (``WIDTH`` x ``HEIGHT``)."""

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = PLOT_TOP
    bottom: int = PLOT_BOTTOM
    band_top: int = BAND_TOP
    band_height: int = BAND_H
    bands: list[Band] = field(default_factory=list)
    backlog_area: str = ""
    backlog_line: str = ""
    ratio_lines: list[str] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    backlog_ticks: list[Tick] = field(default_factory=list)
    ratio_ticks: list[Tick] = field(default_factory=list)
    peak_backlog: int = 0
    summary: str = ""


def _nice_top(value: int) -> int:
    """The axis top: the smallest of 4, 8, 20, 40, 80, 200, 400, ... at least ``value``,
    so that its quarters are whole numbers."""
    scale = 1
    while True:
        for top in (4, 8, 20, 40):
            if top * scale >= value:
                return top * scale
        scale *= 10


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def layout(timeline: Timeline) -> Chart:
    """Lay ``timeline`` out: x is time, the backlog on a rounded scale, the ratio 0-1."""
    chart = Chart()
    span = max(timeline.end - timeline.start, 1.0)
    plot_w = chart.right - chart.left

    def x_of(at: float) -> float:
        return (
            chart.left
            + (min(max(at, timeline.start), timeline.end) - timeline.start) / span * plot_w
        )

    for seg in timeline.segments:
        state = seg.state if seg.state in STATES else "OK"
        minutes = (seg.end - seg.start) / 60
        chart.bands.append(
            Band(x_of(seg.start), max(x_of(seg.end) - x_of(seg.start), 0.5), state,
                 f"{state} for {minutes:.1f} min")
        )  # fmt: skip
    samples = timeline.samples
    peak = max((s.backlog for s in samples), default=0)
    chart.peak_backlog = peak
    top = _nice_top(peak)
    height = chart.bottom - chart.top

    def y_backlog(n: int) -> float:
        return chart.bottom - n / top * height

    if samples:
        points = [(x_of(s.at), y_backlog(s.backlog)) for s in samples]
        first_x = x_of(samples[0].at)
        line = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)
        chart.backlog_line = line
        chart.backlog_area = (
            f"{_fmt(first_x)},{chart.bottom} {line} {_fmt(points[-1][0])},{chart.bottom}"
        )
    run: list[str] = []
    for s in samples:  # a gap where the vendor saw no call: the ratio is unknown there
        ratio = s.ratio
        if ratio is None:
            if len(run) > 1:
                chart.ratio_lines.append(" ".join(run))
            run = []
            continue
        run.append(f"{_fmt(x_of(s.at))},{_fmt(chart.bottom - ratio * height)}")
    if len(run) > 1:
        chart.ratio_lines.append(" ".join(run))
    elif len(run) == 1:  # a lone sample: a short flat stroke so it shows
        lone_x, lone_y = run[0].split(",")
        chart.ratio_lines.append(f"{_fmt(float(lone_x) - 3)},{lone_y} {run[0]}")
    minutes = span / 60
    step = next((m for m in (1, 2, 5, 10, 15, 30, 60, 120) if minutes / m <= 5), 240)
    back = 0.0
    while back <= minutes + 1e-9:  # x ticks every ``step`` minutes back from now
        label = "now" if back == 0 else f"-{back:g} min"
        chart.x_ticks.append(Tick(x_of(timeline.end - back * 60), chart.bottom + 16, label))
        back += step
    for k in range(5):
        at_y = y_backlog(top * k // 4) + 4
        chart.backlog_ticks.append(Tick(chart.left - 6, at_y, f"{top * k // 4}"))
        at_y = chart.bottom - height * k / 4 + 4
        chart.ratio_ticks.append(Tick(chart.right + 6, at_y, f"{k * 25}%"))
    degraded = sum(seg.end - seg.start for seg in timeline.segments if seg.state != "OK")
    chart.summary = (
        f"last {span / 60:g} min: backlog peaked at {peak}; breaker not OK for"
        f" {degraded / 60:.1f} min"
    )
    return chart
