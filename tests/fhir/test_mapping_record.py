"""Pure mapping of the patient record, diagnosis and measurements (no database)."""

from __future__ import annotations

import pytest

import fhir_rows as rows
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import InvalidResource, validated
from mesoclinic.fhir.mapping_assessment import diagnosis_condition_resource
from mesoclinic.fhir.mapping_outcomes import (
    body_structure_resource,
    media_resource,
    observation_resource,
)
from mesoclinic.fhir.mapping_patient import (
    allergy_resource,
    consent_resource,
    history_condition_resource,
    medication_statement_resource,
    patient_resource,
    pregnancy_observation_resource,
)
from mesoclinic.outcomes.kinds import load_kinds


def _codes(concept: dict[str, object]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept["coding"]}  # type: ignore[attr-defined]


def test_patient_carries_the_clinics_record_number_and_its_stable_id() -> None:
    patient = rows.patient()
    resource = patient_resource(patient, clinic_name="Clinic A")
    assert resource["id"] == str(patient.id)
    record = resource["identifier"][0]
    assert record["system"] == codes.record_number_system(rows.CLINIC_ID)
    assert record["value"] == "A-0001"
    assert record["assigner"] == {"display": "Clinic A"}
    assert codes.clinic_id_from_record_system(record["system"]) == rows.CLINIC_ID
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1980-01-02"
    assert resource["active"] is True


def test_voided_patient_is_inactive_and_has_no_empty_elements() -> None:
    resource = patient_resource(rows.patient(status="entered-in-error", phone=None, city=None))
    assert resource["active"] is False
    assert "address" not in resource
    assert resource["telecom"] == [{"system": "email", "value": "ann@example.org"}]


def test_diagnosis_is_coded_in_icd10_and_snomed_with_the_stage() -> None:
    assessment = rows.assessment(rows.patient().id)
    resource = diagnosis_condition_resource(assessment)
    assert {(codes.ICD10, "L64.9"), (codes.SNOMED, "87872006")} <= _codes(resource["code"])
    assert resource["bodySite"][0]["coding"][0]["code"] == codes.SCALP_SNOMED
    (stage,) = resource["stage"]
    assert _codes(stage["summary"]) == {(codes.HAIR_LOSS_STAGE, "norwood_hamilton-IIIa")}
    assert _codes(stage["type"]) == {(codes.STAGING_SCALE, "norwood_hamilton")}


def test_voided_diagnosis_has_no_clinical_status() -> None:
    resource = diagnosis_condition_resource(
        rows.assessment(rows.patient().id, status="entered-in-error", staging_scale=None)
    )
    assert "clinicalStatus" not in resource and "stage" not in resource
    assert resource["verificationStatus"]["coding"][0]["code"] == "entered-in-error"


def test_history_maps_to_allergy_medication_condition_and_pregnancy() -> None:
    patient_id = rows.patient().id
    allergy = allergy_resource(rows.allergy(patient_id))
    assert allergy["code"] == {"text": "Biotin"}
    assert allergy["reaction"][0]["severity"] == "moderate"
    assert allergy["patient"] == {"reference": f"Patient/{patient_id}"}
    stopped = medication_statement_resource(
        rows.medication(patient_id, stopped_on=rows.date(2021, 1, 1))
    )
    assert stopped["status"] == "completed"
    assert stopped["effectivePeriod"] == {"start": "2020-01-01", "end": "2021-01-01"}
    condition = history_condition_resource(rows.history_condition(patient_id))
    assert _codes(condition["code"]) == {(codes.HISTORY_CONDITION, "diabetes")}
    pregnant = pregnancy_observation_resource(rows.pregnancy(patient_id, "pregnant"))
    assert (codes.SNOMED, codes.PREGNANT_SNOMED) in _codes(pregnant["valueCodeableConcept"])


def test_withdrawn_consent_is_inactive_with_its_period_ended() -> None:
    withdrawn = rows.consent(rows.patient().id, withdrawn_at=rows.WHEN)
    resource = consent_resource(withdrawn)
    assert resource["status"] == "inactive"
    assert resource["provision"]["period"]["end"] == "2026-03-01T09:30:00Z"
    assert resource["policyRule"]["text"] == "Scalp mesotherapy (version 2)"


def test_image_analysis_measurement_names_site_image_algorithm_and_ucum_unit() -> None:
    patient_id = rows.patient().id
    site = rows.site(patient_id)
    image = rows.image(patient_id, site)
    measurement = rows.measurement(
        patient_id,
        site=site,
        site_id=site.id,
        source="image-analysis",
        algorithm_version="count-1.4",
        image_id=image.id,
    )
    resource = observation_resource(measurement, load_kinds().get("density_total"))
    assert resource["valueQuantity"] == {
        "value": 152.3,
        "unit": "/cm2",
        "system": codes.UCUM,
        "code": "/cm2",
    }
    assert _codes(resource["code"]) == {(codes.HAIR_METRIC, "density_total")}
    assert _codes(resource["bodySite"]) == {
        (codes.SNOMED, codes.SCALP_SNOMED),
        (codes.SCALP_SITE, "vertex"),
    }
    assert resource["derivedFrom"] == [{"reference": f"Media/{image.id}"}]
    assert resource["device"] == {"display": "mesoclinic image analysis count-1.4"}
    assert resource["category"][0]["coding"][0]["code"] == "imaging"
    assert body_structure_resource(site)["location"] == resource["bodySite"]


def test_patient_reported_score_has_no_body_site() -> None:
    measurement = rows.measurement(
        rows.patient().id, kind="patient_satisfaction", value=8, unit="{score}"
    )
    resource = observation_resource(measurement, load_kinds().get("patient_satisfaction"))
    assert "bodySite" not in resource
    assert resource["category"][0]["coding"][0]["code"] == "survey"


@pytest.mark.parametrize("with_binary", [True, False])
def test_media_gives_the_files_address_only_with_photo_consent(with_binary: bool) -> None:
    image = rows.image(rows.patient().id, None)
    content = media_resource(image, with_binary=with_binary)["content"]
    assert ("url" in content) is with_binary
    assert content["contentType"] == "image/png"


def test_an_invalid_resource_is_refused_naming_the_element() -> None:
    with pytest.raises(InvalidResource) as refused:
        validated({"resourceType": "Patient", "birthDate": "1980-13-01"})
    assert refused.value.path == "Patient.birthDate"
    with pytest.raises(InvalidResource):
        validated({"resourceType": "NoSuchThing"})
