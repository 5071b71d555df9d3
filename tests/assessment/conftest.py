"""Helpers for assessment tests (a fixture, since sibling modules are not importable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


@dataclass(frozen=True)
class AssessmentKit:
    """Request bodies and arrangers shared by the assessment tests."""

    male_aga: dict[str, Any]
    female_fphl: dict[str, Any]

    @staticmethod
    def url(patient: Any, tail: str = "") -> str:
        return f"/api/v1/patients/{patient.id}/assessments{tail}"

    @staticmethod
    def sign_consent(client: Any, patient: Any, procedure: str = "mesotherapy") -> None:
        signed_at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        r = client.post(
            f"/api/v1/patients/{patient.id}/consents",
            json={"procedure": procedure, "signed_by": "the patient", "signed_at": signed_at},
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def kit() -> AssessmentKit:
    return AssessmentKit(
        male_aga={
            "diagnosis": "androgenetic_alopecia",
            "staging": {"scale": "norwood_hamilton", "grade": "III"},
        },
        female_fphl={
            "diagnosis": "female_pattern_hair_loss",
            "staging": {"scale": "ludwig", "grade": "I"},
        },
    )


@pytest.fixture
def clinician(world: Any) -> Any:
    return world.client("clinician")
