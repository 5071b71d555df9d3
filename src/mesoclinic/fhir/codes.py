"""Every FHIR system URI, identifier system, local CodeSystem and status map used by the mapping.

One place so the exporter (mapping), the importer and the CodeSystem resources served under
`/fhir/CodeSystem/{id}` agree. Codes from outside terminologies are only those listed in
docs/clinical-sources.md#fhir-coding (or well-known FHIR/HL7 vocabularies); where no standard code
exists (hair metrics, scalp zones, techniques) a local CodeSystem is published (docs/fhir.md).
"""

from __future__ import annotations

import uuid
from typing import Final

# The models are fhir.resources' R4B package (fhir.resources 8 has no plain R4): R4B is
# wire-compatible with R4 for every resource mapped here, and we say 4.3.0 because that is what
# the resources are validated against (docs/fhir.md, docs/decisions.md).
FHIR_VERSION: Final = "4.3.0"
FHIR_JSON: Final = "application/fhir+json"

# Canonical base of everything mesoclinic defines itself.
BASE: Final = "https://mesoclinic.org/fhir"

# --- outside terminologies ---------------------------------------------------------------------
SNOMED: Final = "http://snomed.info/sct"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
URN_UUID: Final = "urn:ietf:rfc:3986"  # identifier system for "urn:uuid:..." values

# --- HL7 terminology (terminology.hl7.org) -----------------------------------------------------
_THO: Final = "http://terminology.hl7.org/CodeSystem"
CONDITION_CLINICAL: Final = f"{_THO}/condition-clinical"
CONDITION_VERIFICATION: Final = f"{_THO}/condition-ver-status"
CONDITION_CATEGORY: Final = f"{_THO}/condition-category"
ALLERGY_CLINICAL: Final = f"{_THO}/allergyintolerance-clinical"
ALLERGY_VERIFICATION: Final = f"{_THO}/allergyintolerance-verification"
OBSERVATION_CATEGORY: Final = f"{_THO}/observation-category"
CONSENT_SCOPE: Final = f"{_THO}/consentscope"
CONSENT_POLICY: Final = f"{_THO}/consentpolicycodes"
CONSENT_ACTION: Final = f"{_THO}/consentaction"
ACT_REASON: Final = f"{_THO}/v3-ActReason"
MEDIA_TYPE: Final = f"{_THO}/media-type"
PROVENANCE_PARTICIPANT: Final = f"{_THO}/provenance-participant-type"
DATA_OPERATION: Final = f"{_THO}/v3-DataOperation"
ADVERSE_EVENT_SERIOUSNESS: Final = f"{_THO}/adverse-event-seriousness"
ADVERSE_EVENT_SEVERITY: Final = f"{_THO}/adverse-event-severity"
ADVERSE_EVENT_OUTCOME: Final = f"{_THO}/adverse-event-outcome"
MEDICATION_STATEMENT_CATEGORY: Final = f"{_THO}/medication-statement-category"
MEDICATION_ADMIN_CATEGORY: Final = f"{_THO}/medication-admin-category"
IDENTIFIER_TYPE: Final = f"{_THO}/v2-0203"
PARTICIPATION_TYPE: Final = f"{_THO}/v3-ParticipationType"
ISSUE_TYPE_OUTCOME: Final = "http://hl7.org/fhir/issue-type"

# --- SNOMED CT and LOINC codes (docs/clinical-sources.md#fhir-coding) --------------------------
SCALP_SNOMED: Final = "41695006"  # Scalp structure
SCALP_DISPLAY: Final = "Scalp structure"
INTRADERMAL_SNOMED: Final = "372464004"  # Intradermal route
INTRADERMAL_DISPLAY: Final = "Intradermal route"
PREGNANCY_STATUS_LOINC: Final = "82810-3"  # Pregnancy status
PREGNANT_SNOMED: Final = "77386006"  # Pregnant
NOT_PREGNANT_SNOMED: Final = "60001007"  # Not pregnant
CONSENT_LOINC: Final = "59284-0"  # Patient consent
MEDICAL_RECORD_TYPE: Final = "MR"  # v2-0203 medical record number

# --- identifier systems ------------------------------------------------------------------------
USERNAME_SYSTEM: Final = f"{BASE}/sid/username"  # staff who recorded or performed something
LOT_SYSTEM: Final = f"{BASE}/sid/lot"  # product lot ids (the batch number is `lotNumber`)


def record_number_system(clinic_id: uuid.UUID | str) -> str:
    """The identifier system of one clinic's record numbers (unique inside that clinic only)."""
    return f"{BASE}/sid/clinic/{clinic_id}/record-number"


def clinic_id_from_record_system(system: str) -> uuid.UUID | None:
    """The clinic of a record-number identifier system, or None if it is not one of ours."""
    prefix, suffix = f"{BASE}/sid/clinic/", "/record-number"
    if not (system.startswith(prefix) and system.endswith(suffix)):
        return None
    try:
        return uuid.UUID(system[len(prefix) : -len(suffix)])
    except ValueError:
        return None


# --- local CodeSystems (served as CodeSystem resources, listed in docs/fhir.md) ----------------
def code_system_url(name: str) -> str:
    """The canonical URL of one of mesoclinic's own CodeSystems."""
    return f"{BASE}/CodeSystem/{name}"


HAIR_METRIC: Final = code_system_url("hair-metric")  # codes = measurement kinds (kinds.yaml)
SCALP_SITE: Final = code_system_url("scalp-site")  # marked sites and treated zones
MEASUREMENT_METHOD: Final = code_system_url("measurement-method")  # manual/device/image-analysis
DIAGNOSIS: Final = code_system_url("hair-loss-diagnosis")  # assessment diagnosis codes
STAGING_SCALE: Final = code_system_url("staging-scale")  # norwood_hamilton, ludwig, ...
HAIR_LOSS_STAGE: Final = code_system_url("hair-loss-stage")  # "<scale>-<grade>"
HISTORY_CONDITION: Final = code_system_url("history-condition")  # medical-history kinds
MEDICATION_CATEGORY: Final = code_system_url("medication-category")
PROCEDURE: Final = code_system_url("procedure")  # scalp-mesotherapy, prp
TECHNIQUE: Final = code_system_url("mesotherapy-technique")
ADVERSE_EVENT: Final = code_system_url("adverse-event")
CONSENT_PROCEDURE: Final = code_system_url("consent-procedure")  # what a consent form covers
PHOTO_USE: Final = code_system_url("photo-use")  # clinical-record, teaching, marketing
PHOTO_VIEW: Final = code_system_url("photo-view")
IMAGE_KIND: Final = code_system_url("image-kind")  # trichoscopy, photo
PREGNANCY_VALUE: Final = code_system_url("pregnancy-status")

PROCEDURE_MESOTHERAPY: Final = "scalp-mesotherapy"
PROCEDURE_PRP: Final = "prp"
PROCEDURE_DISPLAYS: Final[dict[str, str]] = {
    PROCEDURE_MESOTHERAPY: "Scalp mesotherapy (intradermal micro-injections)",
    PROCEDURE_PRP: "Platelet-rich plasma injection",
}

SCALP_SITE_DISPLAYS: Final[dict[str, str]] = {
    # measurement-site locations (outcomes.SiteLocation)
    "vertex": "Vertex",
    "crown": "Crown",
    "mid-scalp": "Mid-scalp",
    "frontal-hairline": "Frontal hairline",
    "left-temporal": "Left temporal",
    "right-temporal": "Right temporal",
    "occipital": "Occipital",
    "other": "Other (named in text)",
    # treated zones (visits.ZONES) use the same codes where the place is the same
    "frontal": "Frontal",
}
# visits.ZONES spell with underscores; the CodeSystem uses the site spelling.
ZONE_TO_SITE: Final[dict[str, str]] = {
    "frontal": "frontal",
    "mid_scalp": "mid-scalp",
    "vertex": "vertex",
    "left_temporal": "left-temporal",
    "right_temporal": "right-temporal",
    "occipital": "occipital",
}
SITE_TO_ZONE: Final[dict[str, str]] = {v: k for k, v in ZONE_TO_SITE.items()}

MEASUREMENT_METHOD_DISPLAYS: Final[dict[str, str]] = {
    "manual": "Entered by a person",
    "device": "Read off a named device",
    "image-analysis": "Computed from a stored image by an algorithm version",
}
TECHNIQUE_DISPLAYS: Final[dict[str, str]] = {
    "nappage": "Nappage (superficial)",
    "point_by_point": "Point by point (micropapules)",
    "mesogun": "Mesogun / injector",
    "microneedling": "Microneedling-assisted",
}
PHOTO_USE_DISPLAYS: Final[dict[str, str]] = {
    "clinical-record": "Clinical record",
    "teaching": "Teaching",
    "marketing": "Marketing",
}
PREGNANCY_DISPLAYS: Final[dict[str, str]] = {
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "not_pregnant": "Not pregnant",
    "unknown": "Unknown",
}
PREGNANCY_SNOMED: Final[dict[str, tuple[str, str]]] = {
    "pregnant": (PREGNANT_SNOMED, "Pregnant"),
    "not_pregnant": (NOT_PREGNANT_SNOMED, "Not pregnant"),
}

# --- status maps (mesoclinic value -> FHIR code) -----------------------------------------------
APPOINTMENT_STATUS: Final[dict[str, str]] = {
    "booked": "booked",
    "arrived": "arrived",
    "done": "fulfilled",
    "no_show": "noshow",
    "cancelled": "cancelled",
}
CAREPLAN_STATUS: Final[dict[str, str]] = {
    "draft": "draft",
    "active": "active",
    "paused": "on-hold",
    "completed": "completed",
    "stopped": "revoked",
}
PLAN_SESSION_ACTIVITY_STATUS: Final[dict[str, str]] = {
    "planned": "not-started",
    "booked": "scheduled",
    "done": "completed",
    "missed": "stopped",
    "cancelled": "cancelled",
}
ADVERSE_OUTCOME: Final[dict[str, str]] = {
    "resolved": "resolved",
    "ongoing": "ongoing",
    "sequelae": "resolvedWithSequelae",
}
ALLERGY_CRITICALITY: Final[dict[str, str]] = {
    "mild": "low",
    "moderate": "low",
    "severe": "high",
    "unknown": "unable-to-assess",
}
ALLERGY_REACTION_SEVERITY: Final[dict[str, str]] = {
    "mild": "mild",
    "moderate": "moderate",
    "severe": "severe",
}
GENDER: Final[dict[str, str]] = {
    "female": "female",
    "male": "male",
    "other": "other",
    "unknown": "unknown",
}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """One Coding dict (display left out when unknown)."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(*codings: dict[str, str], text: str | None = None) -> dict[str, object]:
    """One CodeableConcept dict from codings and an optional text."""
    out: dict[str, object] = {}
    if codings:
        out["coding"] = list(codings)
    if text:
        out["text"] = text
    return out


SCALP_CODING: Final = coding(SNOMED, SCALP_SNOMED, SCALP_DISPLAY)
SCALP_CONCEPT: Final = concept(SCALP_CODING)
INTRADERMAL_CONCEPT: Final = concept(coding(SNOMED, INTRADERMAL_SNOMED, INTRADERMAL_DISPLAY))
