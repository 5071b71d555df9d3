"""Patient and medical history to FHIR: Patient, AllergyIntolerance, MedicationStatement, Condition
(history), pregnancy-status Observation and procedure Consent. Pure: ORM rows in, dicts out."""

from __future__ import annotations

from mesoclinic.db import RecordStatus
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import (
    Resource,
    fhir_date,
    instant,
    note,
    pruned,
    ref,
    staff,
    validated,
)
from mesoclinic.patients.models import (
    Allergy,
    Condition,
    Consent,
    Medication,
    Patient,
    PregnancyStatus,
)

# The mesoclinic severity of an allergy, kept whole (FHIR criticality folds mild and moderate).
ALLERGY_SEVERITY_EXTENSION = f"{codes.BASE}/StructureDefinition/allergy-severity"


def _voided(status: str) -> bool:
    return status == RecordStatus.ENTERED_IN_ERROR


def patient_resource(patient: Patient, *, clinic_name: str | None = None) -> Resource:
    """The Patient, identified by the clinic's record number and by its stable UUID."""
    telecom = [
        {"system": "phone", "value": patient.phone, "use": "home"} if patient.phone else None,
        {"system": "email", "value": patient.email} if patient.email else None,
    ]
    address = {
        "line": [patient.address_line] if patient.address_line else None,
        "city": patient.city,
        "postalCode": patient.postal_code,
        "country": patient.country,
    }
    return validated(
        pruned(
            {
                "resourceType": "Patient",
                "id": str(patient.id),
                "meta": {"lastUpdated": instant(patient.updated_at)},
                "identifier": [
                    {
                        "use": "usual",
                        "type": codes.concept(
                            codes.coding(
                                codes.IDENTIFIER_TYPE,
                                codes.MEDICAL_RECORD_TYPE,
                                "Medical record number",
                            )
                        ),
                        "system": codes.record_number_system(patient.clinic_id),
                        "value": patient.record_number,
                        "assigner": {"display": clinic_name} if clinic_name else None,
                    },
                    {"system": codes.URN_UUID, "value": f"urn:uuid:{patient.id}"},
                ],
                "active": not _voided(patient.status),
                "name": [
                    {
                        "use": "official",
                        "family": patient.family_name,
                        "given": [patient.given_name],
                    }
                ],
                "telecom": [t for t in telecom if t],
                "gender": codes.GENDER.get(patient.sex, "unknown"),
                "birthDate": fhir_date(patient.birth_date),
                "address": [address] if any(address.values()) else None,
            }
        )
    )


def _history_statuses(status: str) -> tuple[Resource | None, Resource]:
    """(clinicalStatus, verificationStatus) of a history entry: none clinical when voided."""
    if _voided(status):
        return None, codes.concept(
            codes.coding(codes.CONDITION_VERIFICATION, "entered-in-error", "Entered in Error")
        )
    return (
        codes.concept(codes.coding(codes.CONDITION_CLINICAL, "active", "Active")),
        codes.concept(codes.coding(codes.CONDITION_VERIFICATION, "confirmed", "Confirmed")),
    )


def allergy_resource(allergy: Allergy) -> Resource:
    """An allergy from the history; the substance is free text (no coded formulary)."""
    voided = _voided(allergy.status)
    reaction = None
    if allergy.reaction:
        reaction = {
            "manifestation": [{"text": allergy.reaction}],
            "severity": codes.ALLERGY_REACTION_SEVERITY.get(allergy.severity),
        }
    return validated(
        pruned(
            {
                "resourceType": "AllergyIntolerance",
                "id": str(allergy.id),
                "extension": [{"url": ALLERGY_SEVERITY_EXTENSION, "valueCode": allergy.severity}],
                "clinicalStatus": None
                if voided
                else codes.concept(codes.coding(codes.ALLERGY_CLINICAL, "active", "Active")),
                "verificationStatus": codes.concept(
                    codes.coding(
                        codes.ALLERGY_VERIFICATION,
                        "entered-in-error" if voided else "confirmed",
                    )
                ),
                "criticality": codes.ALLERGY_CRITICALITY.get(allergy.severity),
                "code": {"text": allergy.substance},
                "patient": ref("Patient", allergy.patient_id),
                "recordedDate": instant(allergy.recorded_at),
                "recorder": staff(allergy.recorded_by),
                "reaction": [reaction] if reaction else None,
                "note": note(allergy.note),
            }
        )
    )


def medication_statement_resource(medication: Medication) -> Resource:
    """A medicine the patient takes or took, as stated in the history."""
    if _voided(medication.status):
        status = "entered-in-error"
    else:
        status = "completed" if medication.stopped_on else "active"
    period = {
        "start": fhir_date(medication.started_on) if medication.started_on else None,
        "end": fhir_date(medication.stopped_on) if medication.stopped_on else None,
    }
    return validated(
        pruned(
            {
                "resourceType": "MedicationStatement",
                "id": str(medication.id),
                "status": status,
                "category": codes.concept(
                    codes.coding(codes.MEDICATION_CATEGORY, medication.category)
                ),
                "medicationCodeableConcept": {"text": medication.name},
                "subject": ref("Patient", medication.patient_id),
                "effectivePeriod": period,
                "dateAsserted": instant(medication.recorded_at),
                "informationSource": staff(medication.recorded_by),
                "dosage": [{"text": medication.dose}] if medication.dose else None,
                "note": note(medication.note),
            }
        )
    )


def history_condition_resource(condition: Condition) -> Resource:
    """A condition from the medical history (diabetes, bleeding disorder ...): problem list."""
    clinical, verification = _history_statuses(condition.status)
    return validated(
        pruned(
            {
                "resourceType": "Condition",
                "id": str(condition.id),
                "clinicalStatus": clinical,
                "verificationStatus": verification,
                "category": [
                    codes.concept(
                        codes.coding(
                            codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item"
                        )
                    )
                ],
                "code": codes.concept(
                    codes.coding(codes.HISTORY_CONDITION, condition.kind),
                    text=condition.name,
                ),
                "subject": ref("Patient", condition.patient_id),
                "onsetDateTime": fhir_date(condition.onset_on) if condition.onset_on else None,
                "recordedDate": instant(condition.recorded_at),
                "recorder": staff(condition.recorded_by),
                "note": note(condition.note),
            }
        )
    )


def pregnancy_observation_resource(status: PregnancyStatus) -> Resource:
    """A stated pregnancy/breastfeeding status (LOINC 82810-3), SNOMED-coded where one exists."""
    value = [
        codes.coding(
            codes.PREGNANCY_VALUE, status.value, codes.PREGNANCY_DISPLAYS.get(status.value)
        )
    ]
    if status.value in codes.PREGNANCY_SNOMED:
        code, display = codes.PREGNANCY_SNOMED[status.value]
        value.insert(0, codes.coding(codes.SNOMED, code, display))
    return validated(
        pruned(
            {
                "resourceType": "Observation",
                "id": str(status.id),
                "status": "entered-in-error" if _voided(status.status) else "final",
                "category": [
                    codes.concept(
                        codes.coding(codes.OBSERVATION_CATEGORY, "social-history", "Social History")
                    )
                ],
                "code": codes.concept(
                    codes.coding(codes.LOINC, codes.PREGNANCY_STATUS_LOINC, "Pregnancy status")
                ),
                "subject": ref("Patient", status.patient_id),
                "effectiveDateTime": instant(status.recorded_at),
                "performer": None,
                "valueCodeableConcept": codes.concept(
                    *value, text=codes.PREGNANCY_DISPLAYS.get(status.value)
                ),
                "note": note(status.note),
            }
        )
    )


def consent_resource(consent: Consent) -> Resource:
    """A signed procedure consent; withdrawn consents are `inactive` with the period ended."""
    form = consent.form
    signer = (
        ref("Patient", consent.patient_id, consent.signed_by)
        if consent.signer_role == "patient"
        else {"display": f"{consent.signed_by} ({consent.signer_role})"}
    )
    return validated(
        pruned(
            {
                "resourceType": "Consent",
                "id": str(consent.id),
                "status": "inactive" if consent.withdrawn_at else "active",
                "scope": codes.concept(codes.coding(codes.CONSENT_SCOPE, "treatment", "Treatment")),
                "category": [
                    codes.concept(codes.coding(codes.LOINC, codes.CONSENT_LOINC, "Patient consent"))
                ],
                "patient": ref("Patient", consent.patient_id),
                "dateTime": instant(consent.signed_at),
                "performer": [signer],
                "policyRule": {"text": f"{form.title} (version {form.version})"},
                "provision": {
                    "type": "permit",
                    "period": {
                        "start": instant(consent.signed_at),
                        "end": instant(consent.withdrawn_at) if consent.withdrawn_at else None,
                    },
                    "code": [
                        codes.concept(
                            codes.coding(codes.CONSENT_PROCEDURE, form.procedure),
                            text=form.title,
                        )
                    ],
                },
            }
        )
    )
