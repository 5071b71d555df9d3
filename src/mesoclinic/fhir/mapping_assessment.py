"""The hair-loss diagnosis of an assessment to a FHIR Condition with ICD-10, SNOMED CT and stage.

Pure. Codes come from assessment.staging (docs/clinical-sources.md#fhir-coding).
"""

from __future__ import annotations

from mesoclinic.assessment.models import Assessment
from mesoclinic.assessment.staging import DIAGNOSIS_CODES, SCALE_LABELS
from mesoclinic.db import RecordStatus
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, instant, note, pruned, ref, staff, validated


def stage_element(assessment: Assessment) -> Resource | None:
    """Condition.stage: the scale as `type`, the grade as `summary` ("norwood_hamilton-IIIa")."""
    scale, grade = assessment.staging_scale, assessment.staging_grade
    if not scale or grade is None:
        return None
    label = SCALE_LABELS.get(scale, scale)
    text = f"{label} {grade}"
    if scale == "salt" and assessment.salt_severity:
        text = f"{text} ({assessment.salt_severity})"
    return {
        "summary": codes.concept(
            codes.coding(codes.HAIR_LOSS_STAGE, f"{scale}-{grade}", f"{label} {grade}"),
            text=text,
        ),
        "type": codes.concept(codes.coding(codes.STAGING_SCALE, scale, label)),
    }


def diagnosis_condition_resource(assessment: Assessment) -> Resource:
    """The diagnosis made at an assessment: encounter diagnosis on the scalp, with its stage."""
    voided = assessment.status == RecordStatus.ENTERED_IN_ERROR
    known = DIAGNOSIS_CODES.get(assessment.diagnosis)
    label = known.label if known else assessment.diagnosis
    snomed_display = known.snomed_display if known else None
    stage = stage_element(assessment)
    return validated(
        pruned(
            {
                "resourceType": "Condition",
                "id": str(assessment.id),
                "clinicalStatus": None
                if voided
                else codes.concept(codes.coding(codes.CONDITION_CLINICAL, "active", "Active")),
                "verificationStatus": codes.concept(
                    codes.coding(
                        codes.CONDITION_VERIFICATION,
                        "entered-in-error" if voided else "confirmed",
                    )
                ),
                "category": [
                    codes.concept(
                        codes.coding(
                            codes.CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"
                        )
                    )
                ],
                "code": codes.concept(
                    codes.coding(codes.ICD10, assessment.icd10),
                    codes.coding(codes.SNOMED, assessment.snomed, snomed_display),
                    codes.coding(codes.DIAGNOSIS, assessment.diagnosis, label),
                    text=label,
                ),
                "bodySite": [codes.SCALP_CONCEPT],
                "subject": ref("Patient", assessment.patient_id),
                "recordedDate": instant(assessment.assessed_at),
                "recorder": staff(assessment.assessed_by),
                "asserter": staff(assessment.assessed_by),
                "stage": [stage] if stage else None,
                "note": note(assessment.complaint),
            }
        )
    )
