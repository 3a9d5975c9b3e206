"""The console's chart layout and the Prometheus text, as pure functions of their inputs."""

from __future__ import annotations

import re

from proofqueue.api import Figures, Timeline
from proofqueue.entrypoints.console.chart import layout
from proofqueue.entrypoints.http.metrics import exposition
from proofqueue.projections.timeline import Sample, Segment, VendorFigures


def _timeline() -> Timeline:
    start, end = 1000.0, 1600.0
    samples = [Sample(start + 60 * (k + 1), backlog=k * 3, calls=10, failures=k) for k in range(10)]
    segments = [
        Segment(start, 1300.0, "OK"),
        Segment(1300.0, 1450.0, "DEGRADED"),
        Segment(1450.0, 1500.0, "RECOVERING"),
        Segment(1500.0, end, "OK"),
    ]
    return Timeline("http://vendor", start, end, samples, segments)


def test_the_state_band_covers_the_plot_in_time_order() -> None:
    """Each state segment is one band; together they span the plot's width, in order."""
    chart = layout(_timeline())
    assert [b.state for b in chart.bands] == ["OK", "DEGRADED", "RECOVERING", "OK"]
    assert abs(sum(b.width for b in chart.bands) - (chart.right - chart.left)) < 0.5
    assert chart.bands[1].x < chart.bands[2].x


def test_the_backlog_axis_is_rounded_up_and_the_peak_is_named() -> None:
    """Peak 27 -> an axis to 40 in quarters of 10; the summary names the peak and the time
    the breaker was not OK."""
    chart = layout(_timeline())
    assert [t.text for t in chart.backlog_ticks] == ["0", "10", "20", "30", "40"]
    assert "backlog peaked at 27" in chart.summary
    assert "not OK for 3.3 min" in chart.summary
    assert [t.text for t in chart.x_ticks][:2] == ["now", "-2 min"]


def test_the_ratio_line_breaks_where_the_vendor_saw_no_call() -> None:
    """No call in an interval: the ratio is unknown there, and the line has a gap."""
    line = _timeline()
    line.samples[4] = Sample(line.samples[4].at, 5, 0, 0)
    assert len(layout(line).ratio_lines) == 2


def test_the_exposition_has_every_metric_of_the_design_once() -> None:
    """Every name of design.md, a HELP and a TYPE each, a 0/1 state per vendor, labels
    escaped."""
    found = Figures(
        intents={"QUEUED": 3, "RETRYING": 2, "SUBMITTED": 0, "SETTLED": 7, "FAILED": 1},
        oldest_age_s=12.5,
        vendors=[VendorFigures('http://a"b', "DEGRADED", 20, 15, {"DEGRADED": 2, "OK": 1})],
        attempts={"accepted": 7, "transient": 4},
        ambiguous_resends=1,
        workers_alive=2,
    )
    text = exposition(found)
    names = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert [n for n, _ in names] == [
        "proofqueue_intents",
        "proofqueue_backlog_oldest_age_seconds",
        "proofqueue_breaker_state",
        "proofqueue_breaker_failure_ratio",
        "proofqueue_breaker_calls_in_window",
        "proofqueue_breaker_transitions_total",
        "proofqueue_attempts_total",
        "proofqueue_ambiguous_resends_total",
        "proofqueue_workers_alive",
    ]
    assert 'proofqueue_breaker_state{vendor="http://a\\"b",state="DEGRADED"} 1' in text
    assert 'proofqueue_breaker_state{vendor="http://a\\"b",state="OK"} 0' in text
    assert 'proofqueue_breaker_failure_ratio{vendor="http://a\\"b"} 0.75' in text
    assert 'proofqueue_breaker_transitions_total{vendor="http://a\\"b",to="RECOVERING"} 0' in text
    assert 'proofqueue_attempts_total{outcome="gave_up"} 0' in text
    assert "proofqueue_backlog_oldest_age_seconds 12.5\n" in text
    assert text.endswith("proofqueue_workers_alive 2\n")
