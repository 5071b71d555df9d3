"""bench/request_cost.py --quick runs in the suite so it cannot rot (figures printed, not asserted).

It builds a small clinic group with bench/scale_data.py and sends each endpoint's requests
straight into the app; the test checks that every endpoint answered 200 and that every figure
is there, never how fast.
"""

from __future__ import annotations

import pytest

from support import run_bench
from test_bench_api_load import ENDPOINTS  # the same endpoints, in the same order


@pytest.mark.timeout(900)
def test_request_cost_quick_mode_prints_cpu_and_statements_of_every_endpoint() -> None:
    figures = run_bench("request_cost.py", "--quick")
    rows = {r["endpoint"]: r for r in figures["endpoints"]}
    assert tuple(rows) == ENDPOINTS
    for name, row in rows.items():
        assert row["requests"] >= 10 and row["errors"] == 0, (name, row)
        assert row["cpu_ms_p50"] > 0, (name, row)
        # Every endpoint but the bare one reads the database; none sends statements unbounded.
        assert (row["statements_mean"] > 0) == (name != "bare (/healthz)"), (name, row)
    assert len(figures["load_average"]) == 3
