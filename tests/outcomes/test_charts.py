"""Charts render as accessible SVG for no, one and many points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mesoclinic.outcomes.charts import ChartInput, series_chart

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize("count", [0, 1, 12])
def test_a_chart_renders_with_its_title_and_description(count: int) -> None:
    points = [(T0 + timedelta(days=30 * i), 140.0 + i) for i in range(count)]
    sessions = [(T0 + timedelta(days=14 * i + 1), i % 3 == 0) for i in range(min(count, 6))]
    svg = series_chart(
        ChartInput(
            chart_id=f"c{count}",
            title="Hair density, total at Vertex",
            unit="/cm²",
            points=points,
            sessions=sessions,
            baseline=140.0 if count else None,
            threshold=154.0 if count else None,
            description="Density over time",
        )
    )
    assert svg.startswith('<svg role="img" aria-labelledby="c' + str(count) + "-title")
    assert f'<title id="c{count}-title">Hair density, total at Vertex</title>' in svg
    assert "Density over time" in svg
    assert svg.rstrip().endswith("</svg>")
    if count == 0:
        assert "No values yet" in svg
    else:
        assert "Baseline" in svg and "Responder threshold" in svg
    if count == 12:
        assert "Session with PRP" in svg and "Session" in svg
