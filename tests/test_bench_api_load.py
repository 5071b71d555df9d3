"""bench/api_load.py --quick runs in the suite so it cannot rot (figures printed, not asserted).

It builds a small clinic group with bench/scale_data.py, starts `mesoclinic serve` on it and
drives every endpoint (and the head-of-line pair) for 0.3 s instead of the quick mode's second:
enough for every endpoint to answer many requests on every connection, which is all the test
checks (every endpoint answered, every figure is there, never how fast).
"""

from __future__ import annotations

import pytest

from support import run_bench

ENDPOINTS = (
    "bare (/healthz)",
    "search: name prefix",
    "search: birth date",
    "search: phone",
    "search: record number",
    "patient read",
    "visits of a patient",
    "week calendar (API)",
    "dashboard (page)",
    "patient page",
    "patient list (page)",
    "day calendar (page)",
)


@pytest.mark.timeout(900)
def test_api_load_quick_mode_prints_every_figure() -> None:
    figures = run_bench("api_load.py", "--quick", "--seconds", "0.3")
    rows = {r["endpoint"]: r for r in figures["endpoints"]}
    assert tuple(rows) == ENDPOINTS
    for name, row in rows.items():
        assert row["requests"] > 0 and row["errors"] == 0, (name, row)
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], (name, row)
        assert row["x_bare"] is not None, name
    assert len(figures["load_average_before"]) == len(figures["load_average_after"]) == 3
    hol = figures["head_of_line"]
    assert hol["slowest"] in rows and hol["reads_alone_rps"] > 0 and hol["ratio"] is not None
