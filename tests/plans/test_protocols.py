"""Protocol templates are validated data; a clinic can point MESOCLINIC_PROTOCOLS at its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mesoclinic.findings import RulebookError
from mesoclinic.plans.protocols import DEFAULT_PROTOCOLS, load_protocols

GOOD = {
    "version": 1,
    "protocols": [
        {
            "code": "clinic-weekly",
            "name": "Clinic weekly",
            "source": "our clinic",
            "phases": [
                {
                    "name": "induction",
                    "sessions": 3,
                    "interval_days": 7,
                    "window_before": 1,
                    "window_after": 2,
                }
            ],
        }
    ],
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "protocols.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_packaged_protocols_match_the_clinical_table() -> None:
    book = load_protocols(DEFAULT_PROTOCOLS)
    counts = {p.code: [ph.sessions for ph in p.phases] for p in book.protocols}
    assert counts["standard-vitamin"] == [6, 4, 2]
    assert counts["intensive-induction"] == [4, 4, 4]
    assert counts["minoxidil"] == [10]
    intervals = {p.code: [ph.interval_days for ph in p.phases] for p in book.protocols}
    assert intervals["intensive-induction"] == [7, 14, 28]
    assert book.get("meso-prp").phases[0].prp_sessions == (1, 3, 5)


@pytest.mark.parametrize(
    "change,named",
    [
        ({"window_before": 7}, "clinic-weekly"),
        ({"prp_sessions": [4]}, "clinic-weekly"),
        ({"week_offsets": [0, 2]}, "clinic-weekly"),
        ({"sessions": 0}, "clinic-weekly"),
    ],
)
def test_invalid_protocols_are_refused_naming_the_protocol(
    tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    bad = yaml.safe_load(yaml.safe_dump(GOOD))
    bad["protocols"][0]["phases"][0].update(change)
    with pytest.raises(RulebookError) as caught:
        load_protocols(write(tmp_path, bad))
    assert named in str(caught.value)


def test_duplicate_codes_are_refused(tmp_path: Path) -> None:
    twice = {"version": 1, "protocols": GOOD["protocols"] * 2}
    with pytest.raises(RulebookError, match="unique"):
        load_protocols(write(tmp_path, twice))


def test_the_clinic_file_replaces_the_defaults_in_the_api(world: Any, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    world.app.state.settings.protocols = path
    try:
        codes = [p["code"] for p in world.client("nurse").get("/api/v1/protocols").json()]
    finally:
        world.app.state.settings.protocols = None
    assert codes == ["clinic-weekly"]


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_protocols(path).protocols[0].name == "Clinic weekly"
    changed = yaml.safe_load(yaml.safe_dump(GOOD))
    changed["protocols"][0]["name"] = "Clinic weekly (v2)"
    import os

    path.write_text(yaml.safe_dump(changed))
    os.utime(path, ns=(1, 10**18))
    assert load_protocols(path).protocols[0].name == "Clinic weekly (v2)"
