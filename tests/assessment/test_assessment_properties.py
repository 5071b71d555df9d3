"""Properties over every valid assessment body: one candidacy; absolute always blocks;
a scale that does not fit the patient's sex is always refused naming the field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesoclinic.assessment.rulebook import load_default_rulebook
from mesoclinic.assessment.schemas import AssessmentCreate
from mesoclinic.assessment.service import prepare
from mesoclinic.assessment.staging import DIAGNOSES, SCALE_GRADES, SCALE_SEXES
from mesoclinic.errors import InvalidInput
from mesoclinic.patients.models import Patient

SEXES = ("female", "male", "other", "unknown")
RULEBOOK = load_default_rulebook()  # the shipped rules, as with no clinic file configured
MAYBE = st.none() | st.booleans()


def _patient(sex: str) -> Patient:
    patient = Patient(sex=sex, birth_date=date(1988, 6, 1))
    patient.allergies, patient.medications, patient.conditions = [], [], []
    patient.pregnancy_statuses = []
    return patient


@st.composite
def staging(draw: st.DrawFn) -> dict[str, Any] | None:
    scale = draw(st.sampled_from([None, "norwood_hamilton", "ludwig", "sinclair", "salt"]))
    if scale is None:
        return None
    if scale != "salt":
        return {"scale": scale, "grade": draw(st.sampled_from(SCALE_GRADES[scale]))}
    pct = st.floats(0, 100, allow_nan=False)
    if draw(st.booleans()):
        return {"scale": scale, "grade": draw(pct)}
    return {"scale": scale, "regions": {r: draw(pct) for r in ("vertex", "right", "left", "back")}}


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "diagnosis": draw(st.sampled_from(DIAGNOSES)),
        "staging": draw(staging()),
    }
    for name in (
        "pregnant",
        "breastfeeding",
        "anticoagulants",
        "recent_bleeding_risk_supplements",
        "may_become_pregnant",
    ):
        body[name] = draw(MAYBE)
    for name in ("scalp_infection", "open_wound", "herpes_active", "scalp_inflammation"):
        body[name] = draw(st.booleans())
    body["conditions"] = draw(
        st.none()
        | st.lists(
            st.sampled_from(["diabetes", "autoimmune", "thyroid", "keloid_tendency"]), max_size=3
        )
    )
    return body


@settings(deadline=None)  # the first call reads settings and the rulebook
@given(bodies(), st.sampled_from(SEXES))
def test_every_valid_assessment_gets_one_candidacy_and_absolute_blocks(
    body: dict[str, Any], sex: str
) -> None:
    data = AssessmentCreate.model_validate(body)
    scale = body["staging"]["scale"] if body["staging"] else None
    if scale is not None and sex not in SCALE_SEXES[scale]:
        with pytest.raises(InvalidInput) as info:
            prepare(_patient(sex), data, RULEBOOK)
        assert info.value.field == "staging.scale"
        return
    decision = prepare(_patient(sex), data, RULEBOOK).decision
    assert decision.candidacy in ("recommended", "caution", "not_recommended")
    absolute = [f for f in decision.contraindications if f.severity == "absolute"]
    assert decision.blocked == bool(absolute)
    if body["pregnant"] or body["scalp_infection"] or body["open_wound"]:
        assert decision.blocked and decision.candidacy == "not_recommended"
