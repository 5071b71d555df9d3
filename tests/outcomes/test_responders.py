"""The responder rule on its edges: exactly 10 %, no baseline, a changed site, a voided value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mesoclinic.findings import RulebookError
from mesoclinic.outcomes.progress import Reading, SessionGiven, build_series
from mesoclinic.outcomes.responders import (
    MeasuredSeries,
    ResponderStatus,
    evaluate,
    load_responder_rules,
)

BOOK = load_responder_rules()
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
MONTH = timedelta(days=30.44)


def _sessions(n: int, every: timedelta = timedelta(days=14)) -> list[SessionGiven]:
    return [SessionGiven(T0 + i * every, "Vitamins") for i in range(n)]


def _density(values: list[tuple[float, float]], where: str = "at Vertex") -> MeasuredSeries:
    """(months after the first session, value); month -0.1 is the baseline."""
    readings = [
        Reading(f"{where}-{i}", T0 + m * MONTH, v, "device") for i, (m, v) in enumerate(values)
    ]
    series = build_series("density_total", readings, _sessions(6))
    return MeasuredSeries(series, "Hair density, total", where)


def _judge(*measured: MeasuredSeries, sessions: int = 6, months: float = 6.5):  # type: ignore[no-untyped-def]
    return evaluate(BOOK, list(measured), sessions, T0, T0 + months * MONTH)


def test_exactly_ten_percent_at_three_months_is_a_responder() -> None:
    result = _judge(_density([(-0.1, 150.0), (3.0, 165.0)]))
    assert result.status is ResponderStatus.RESPONDER
    assert result.finding.rule_id == "responder.density-up-10pct-3m"
    assert "+10 % at 3.0 months" in result.finding.reason
    assert result.finding.source == "docs/clinical-sources.md#responder-rule"
    assert "measurement error" in result.finding.reason


def test_just_under_ten_percent_is_not() -> None:
    result = _judge(_density([(-0.1, 150.0), (3.0, 164.9)]))
    assert result.status is ResponderStatus.NON_RESPONDER
    assert result.finding.rule_id == "non-responder.no-rule-met"
    assert result.finding.severity == "warning"
    assert "needs +10 %" in result.finding.reason


def test_a_gain_before_three_months_does_not_count_yet() -> None:
    result = _judge(_density([(-0.1, 150.0), (2.0, 180.0)]), sessions=3, months=2.5)
    assert result.status is ResponderStatus.TOO_EARLY


def test_judged_on_the_latest_value_not_the_best_one() -> None:
    result = _judge(_density([(-0.1, 150.0), (3.0, 170.0), (6.0, 152.0)]))
    assert result.status is ResponderStatus.NON_RESPONDER


def test_shedding_halved_is_a_responder() -> None:
    readings = [Reading("w0", T0 - timedelta(days=1), 300, "manual")]
    readings.append(Reading("w1", T0 + 2 * MONTH, 150, "manual"))
    series = build_series("wash_count", readings, _sessions(4))
    result = _judge(MeasuredSeries(series, "Wash count", ""), sessions=4, months=2.1)
    assert result.status is ResponderStatus.RESPONDER
    assert result.finding.rule_id == "responder.shedding-down-50pct"


def test_missing_baseline_cannot_be_judged() -> None:
    # Measured only after treatment started: there is nothing to compare with.
    result = _judge(_density([(0.5, 150.0), (6.0, 120.0)]))
    assert result.status is ResponderStatus.CANNOT_JUDGE
    assert "no baseline" in result.finding.reason


def test_a_changed_site_is_not_compared_with_the_old_one() -> None:
    # Baseline at the vertex; the follow-up was measured at a new site: not like with like.
    old = _density([(-0.1, 120.0)], "at Vertex")
    new = _density([(3.5, 180.0)], "at Crown")
    result = _judge(old, new)
    assert result.status is ResponderStatus.CANNOT_JUDGE
    assert "follow-up" in result.finding.reason or "baseline" in result.finding.reason


def test_a_voided_value_is_left_out() -> None:
    # The service passes only current values: without the voided +20 % value, the patient's
    # latest value is flat.
    with_it = _judge(_density([(-0.1, 150.0), (3.0, 151.0), (4.0, 180.0)]))
    without = _judge(_density([(-0.1, 150.0), (3.0, 151.0)]))
    assert with_it.status is ResponderStatus.RESPONDER
    assert without.status is ResponderStatus.NON_RESPONDER


def test_too_early_before_session_four_and_six_months() -> None:
    result = _judge(_density([(-0.1, 150.0), (1.0, 150.0)]), sessions=2, months=1.2)
    assert result.status is ResponderStatus.TOO_EARLY
    assert "judged after 4 sessions or 6 months" in result.finding.reason


def test_session_four_without_a_late_enough_value_is_not_a_non_responder() -> None:
    result = _judge(_density([(-0.1, 150.0), (1.5, 150.0)]), sessions=4, months=1.6)
    assert result.status is ResponderStatus.CANNOT_JUDGE


def test_no_session_yet() -> None:
    result = evaluate(BOOK, [], 0, None, T0)
    assert result.status is ResponderStatus.TOO_EARLY


def test_an_invalid_rulebook_names_the_rule(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    text = Path(__file__).parents[2].joinpath("src/mesoclinic/outcomes/responders.yaml")
    bad.write_text(text.read_text().replace("threshold_percent: 10", "threshold_percent: -5"))
    with pytest.raises(RulebookError, match=r"id=responder.density-up-10pct-3m"):
        load_responder_rules(bad)
