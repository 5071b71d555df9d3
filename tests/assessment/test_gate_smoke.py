"""The treatment gate on a bare record: consent and assessment are both missing."""

from __future__ import annotations

from typing import Any

from mesoclinic.assessment import service
from mesoclinic.db import unit_of_work


def test_gate_without_consent_or_assessment_names_both(world: Any) -> None:
    with unit_of_work(world.db.factory) as s:
        findings = service.treatment_gate(s, world.patient_a.id)
    assert [f.rule_id for f in findings] == ["consent.missing", "assessment.missing"]
