"""mesoclinic's own CodeSystems as FHIR resources (served at `/fhir/CodeSystem/{name}`). Pure."""

from __future__ import annotations

from typing import get_args

from mesoclinic.assessment.staging import DIAGNOSIS_CODES, SCALE_GRADES, SCALE_LABELS
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, validated
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import ImageKind, PhotoView
from mesoclinic.patients.schemas import ConditionKind, MedicationCategory
from mesoclinic.visits.models import ADVERSE_EVENT_TYPES

TITLES: dict[str, str] = {
    "hair-metric": "Hair and scalp measurements (no LOINC code exists)",
    "scalp-site": "Scalp sites and treated zones",
    "measurement-method": "How a measurement was obtained",
    "hair-loss-diagnosis": "Hair-loss diagnoses of an assessment",
    "staging-scale": "Hair-loss staging scales",
    "hair-loss-stage": "Hair-loss stages as {scale}-{grade} (SALT scores are salt-{0..100})",
    "history-condition": "Conditions of the medical history that matter for mesotherapy",
    "medication-category": "Medicine categories the safety checks use",
    "procedure": "Procedures of a mesotherapy programme",
    "mesotherapy-technique": "Injection techniques",
    "adverse-event": "Adverse events recorded after a visit",
    "photo-use": "Uses of clinical photographs a patient may allow",
    "photo-view": "Standard photographic views",
    "image-kind": "Kinds of clinical image",
    "pregnancy-status": "Pregnancy and breastfeeding status as stated",
}


def _concepts(name: str, book: KindBook) -> list[tuple[str, str]]:
    plain = {
        "scalp-site": codes.SCALP_SITE_DISPLAYS,
        "measurement-method": codes.MEASUREMENT_METHOD_DISPLAYS,
        "procedure": codes.PROCEDURE_DISPLAYS,
        "mesotherapy-technique": codes.TECHNIQUE_DISPLAYS,
        "photo-use": codes.PHOTO_USE_DISPLAYS,
        "pregnancy-status": codes.PREGNANCY_DISPLAYS,
        "staging-scale": SCALE_LABELS,
        "hair-loss-diagnosis": {k: v.label for k, v in DIAGNOSIS_CODES.items()},
    }
    if name in plain:
        return list(plain[name].items())
    words = {
        "history-condition": get_args(ConditionKind),
        "medication-category": get_args(MedicationCategory),
        "adverse-event": [t for t in ADVERSE_EVENT_TYPES if t != "none"],
        "photo-view": [str(v) for v in PhotoView],
        "image-kind": [str(k) for k in ImageKind],
    }
    if name in words:
        return [
            (code, code.replace("_", " ").replace("-", " ").capitalize()) for code in words[name]
        ]
    if name == "hair-metric":
        return [(k.code, f"{k.label} [{k.unit}]") for k in book.kinds]
    # hair-loss-stage: the graded scales; SALT scores are numbers, so the system is a fragment.
    return [
        (f"{scale}-{grade}", f"{SCALE_LABELS[scale]} {grade}")
        for scale, grades in SCALE_GRADES.items()
        for grade in grades
    ]


def code_system(name: str, book: KindBook) -> Resource | None:
    """One local CodeSystem, or None when mesoclinic defines no system of that name."""
    if name not in TITLES:
        return None
    concepts = _concepts(name, book)
    return validated(
        {
            "resourceType": "CodeSystem",
            "id": name,
            "url": codes.code_system_url(name),
            "version": book.version if name == "hair-metric" else "1",
            "name": "".join(part.capitalize() for part in name.split("-")),
            "title": TITLES[name],
            "status": "active",
            "publisher": "mesoclinic",
            "caseSensitive": True,
            "content": "fragment" if name == "hair-loss-stage" else "complete",
            "count": len(concepts),
            "concept": [{"code": code, "display": display} for code, display in concepts],
        }
    )
