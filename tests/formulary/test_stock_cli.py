"""`mesoclinic stock alerts` and `mesoclinic stock recipients`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from mesoclinic.cli import build_app
from support import audit_entries

# CLI commands open their own engine
pytestmark = pytest.mark.committed


@pytest.fixture
def cli(db, monkeypatch, tmp_path):
    monkeypatch.setenv("MESOCLINIC_DATABASE_URL", db.url)
    monkeypatch.setenv("MESOCLINIC_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    return lambda *args: runner.invoke(build_app(), list(args))


def test_alerts_and_recipients_from_the_command_line(cli, world, product, tmp_path):
    c = world.client("clinician")
    lot = c.post(
        "/api/v1/lots",
        json={
            "product_id": product["id"],
            "batch_number": "Z-9",
            "quantity_ml": 4,
            "expires_on": (date.today() + timedelta(days=5)).isoformat(),
        },
    ).json()
    r = cli("stock", "alerts")
    assert r.exit_code == 0 and "expiring" in r.output and "low_stock" in r.output
    out = tmp_path / "recall.csv"
    r = cli("stock", "recipients", lot["id"], "--csv", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("performed_at,record_number")
    assert audit_entries(world.db, action="export", entity_id=lot["id"])
    r = cli("stock", "recipients", "00000000-0000-4000-8000-000000000000")
    assert r.exit_code == 1 and "not found" in r.output.lower()
