"""Demo assessments that follow each demo patient's storyline (some assessed twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.assessment import service
from mesoclinic.assessment.gate import clinic_rulebook
from mesoclinic.assessment.schemas import AssessmentCreate, OverrideCreate
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.patients.models import Patient

OVERRIDE_REASON = (
    "Apixaban for atrial fibrillation; cardiologist agrees to continue. Use 32 G "
    "needles, nappage only, firm pressure; review bruising at each visit."
)


def _pattern_stage(sex: str, male: str, female: tuple[str, str]) -> dict[str, Any]:
    if sex == "male":
        return {"scale": "norwood_hamilton", "grade": male}
    return {"scale": female[0], "grade": female[1]}


def _bodies(storyline: str, sex: str, index: int) -> list[dict[str, Any]]:
    """One or two assessments (oldest first) for a storyline."""
    aga = "female_pattern_hair_loss" if sex == "female" else "androgenetic_alopecia"
    if storyline == "telogen_effluvium":
        first = {
            "diagnosis": "telogen_effluvium",
            "complaint": "Hair coming out in handfuls since a febrile illness",
            "complaint_duration_months": 3,
            "pull_test_hairs": 9,
            "wash_test_count": 180,
            "comb_count": 85,
        }
        return [
            first,
            {
                **first,
                "complaint": "Shedding settling",
                "pull_test_hairs": 3,
                "wash_test_count": 70,
                "comb_count": 30,
            },
        ]
    if storyline in ("early_aga", "biotin_allergy"):
        stage = _pattern_stage(sex, ("II", "IIa", "III")[index % 3], ("ludwig", "I"))
        return [
            {
                "diagnosis": aga,
                "staging": stage,
                "complaint": "Thinning at the temples",
                "complaint_duration_months": 12 + index,
                "pull_test_hairs": 2,
                "comb_count": 15,
            }
        ]
    if storyline == "moderate_aga":
        first = {
            "diagnosis": aga,
            "staging": _pattern_stage(sex, "IV", ("sinclair", "3")),
            "complaint": "Receding hairline and thinning crown",
            "complaint_duration_months": 48,
            "pull_test_hairs": 3,
        }
        return [
            first,
            {
                **first,
                "staging": _pattern_stage(sex, "IVa", ("sinclair", "3")),
                "complaint": "Review after first treatment block",
            },
        ]
    if storyline == "fphl":
        return [
            {
                "diagnosis": "female_pattern_hair_loss",
                "staging": {"scale": "ludwig", "grade": "II"},
                "complaint": "Widening parting",
                "complaint_duration_months": 30,
                "pull_test_hairs": 4,
                "wash_test_count": 60,
            }
        ]
    if storyline == "advanced_aga":
        return [
            {
                "diagnosis": "androgenetic_alopecia",
                "staging": _pattern_stage(sex, "VI", ("ludwig", "III")),
                "complaint": "Wants to regrow the crown",
                "complaint_duration_months": 180,
            }
        ]
    if storyline == "alopecia_areata":
        regions = {"vertex": 30 + index, "right": 10, "left": 5, "back": 20}
        return [
            {
                "diagnosis": "alopecia_areata",
                "staging": {"scale": "salt", "regions": regions},
                "complaint": "Round bald patches",
                "complaint_duration_months": 5,
                "scalp_inflammation": index % 2 == 0,
            }
        ]
    if storyline == "pregnant":
        return [
            {
                "diagnosis": "telogen_effluvium",
                "complaint": "Shedding in pregnancy",
                "complaint_duration_months": 2,
                "pull_test_hairs": 7,
            }
        ]
    if storyline == "anticoagulant":
        return [
            {
                "diagnosis": aga,
                "staging": _pattern_stage(sex, "III", ("ludwig", "I")),
                "complaint": "Gradual thinning",
                "complaint_duration_months": 24,
            }
        ]
    return []


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Assess every demo patient by storyline; one anticoagulant patient gets an override."""
    decisions: dict[str, Any] = {}
    overridden = False
    rulebook = clinic_rulebook(ctx.settings.rulebook)
    for index, (patient, storyline) in enumerate(ctx.patients):
        actor = ctx.actor(_clinician(ctx, patient))
        bodies = _bodies(storyline, patient.sex, index)
        for n, body in enumerate(bodies):
            # Two assessments are four months apart; the latest is two weeks before "now".
            days_ago = 14 + 120 * (len(bodies) - 1 - n) + index
            made = service.create(
                session,
                actor,
                patient.id,
                AssessmentCreate.model_validate(
                    {**body, "assessed_at": ctx.now - timedelta(days=days_ago)}
                ),
                rulebook,
            )
        if bodies:
            decisions[str(patient.id)] = made.decision
        if storyline == "anticoagulant" and not overridden and bodies:
            service.add_override(
                session,
                actor,
                patient.id,
                made.id,
                OverrideCreate(rule_id="contra.anticoagulants", reason=OVERRIDE_REASON),
            )
            overridden = True
    ctx.extra["assessment_decisions"] = decisions


def _clinician(ctx: DemoContext, patient: Patient) -> str:
    return "dr.moreau" if patient.clinic_id == ctx.clinics[MAIN_CLINIC].id else "dr.garcia"
