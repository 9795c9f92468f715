"""The SVG chart functions: axes, labels, no inline style, escaping."""

from datetime import UTC, datetime, timedelta

from console import charts

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_nice_max() -> None:
    assert [charts.nice_max(v) for v in (0, 0.3, 1, 7, 12, 101, 2400)] == [1.0, 0.5, 1, 10, 20, 200, 2500]


def test_a_line_chart_has_axes_labels_and_a_description() -> None:
    times = [T0 + timedelta(minutes=5 * i) for i in range(4)]
    svg = charts.chart(
        "Duration <p99>", [charts.Line("p99", times, [10.0, 20.0, 15.0, 30.0])], "Milliseconds", T0, times[-1]
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<polyline" in svg and "12:00" in svg and "12:15" in svg and "30.0 ms" in svg
    assert "Duration &lt;p99&gt;" in svg and "p99: 30.0 ms (latest)" in svg
    assert "style=" not in svg


def test_bars_and_an_empty_window() -> None:
    bars = charts.chart(
        "n", [charts.Line("n", [T0], [4.0])], "Count", T0, T0 + timedelta(hours=1), kind="bar"
    )
    assert bars.count("<rect") == 1
    empty = charts.chart("n", [charts.Line("n", [], [])], "Count", T0, T0 + timedelta(days=7))
    assert "no data in this window" in empty and "01-01" in empty


def test_sparkline_and_values() -> None:
    assert charts.sparkline([1.0], "x") == ""
    assert "<polyline" in charts.sparkline([1.0, 3.0, 2.0], "x")
    assert charts.format_value(2_500_000, "Bytes") == "2.4 MB" and charts.format_value(3, "Count") == "3"
