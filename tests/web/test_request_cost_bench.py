"""bench/request_cost.py --quick runs in the suite so it cannot rot (figures printed, not asserted).

It builds a small clinic group with bench/scale_data.py and sends each endpoint's requests
straight into the app; the test checks that every endpoint answered 200 and that every figure
is there, never how fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_bench_api_load import ENDPOINTS  # the same endpoints, in the same order

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_request_cost_quick_mode_prints_cpu_and_statements_of_every_endpoint() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("MESOCLINIC_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "request_cost.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        timeout=840,  # the shared 2-core test machine; the run itself takes about a minute
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    rows = {r["endpoint"]: r for r in figures["endpoints"]}
    assert tuple(rows) == ENDPOINTS
    for name, row in rows.items():
        assert row["requests"] >= 10 and row["errors"] == 0, (name, row)
        assert row["cpu_ms_p50"] > 0, (name, row)
        # Every endpoint but the bare one reads the database; none sends statements unbounded.
        assert (row["statements_mean"] > 0) == (name != "bare (/healthz)"), (name, row)
    assert len(figures["load_average"]) == 3
