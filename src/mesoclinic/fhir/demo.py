"""Demo data for FHIR: a referral received from a partner dermatology practice, per clinic.

Each demo clinic's clinician imports one transaction Bundle as `POST /fhir` would: the patient,
a condition and an allergy from the referrer's history, the trichoscopy density measured there,
and the two mesotherapy sessions already given there (Procedure with its MedicationAdministrations,
kept as sessions recorded elsewhere: no stock of this clinic drawn, no check of this clinic run).
The Visits tab then shows them, and the minimum interval counts them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.demo.seed import MAIN_CLINIC, SECOND_CLINIC, DemoContext
from mesoclinic.fhir import codes, importer
from mesoclinic.fhir.importer_parse import parse_bundle
from mesoclinic.outcomes.kinds import load_kinds


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """One referral per clinic, imported by that clinic's clinician."""
    book = load_kinds(ctx.settings.measurement_kinds)
    for clinic_name, username, referral in REFERRALS:
        bundle = referral_bundle(referral, ctx.now)
        actor = ctx.actor(username)
        importer.import_bundle(
            session, actor, parse_bundle(bundle), book, ctx.clinics[clinic_name].id
        )
    ctx.extra["fhir_referrals"] = len(REFERRALS)


_LONDON: dict[str, Any] = {
    "referrer": "https://dermatology.stmarks-clinic.example.org",
    "record": "SMD-48213",
    "family": "Adeyemi",
    "given": ["Folake"],
    "gender": "female",
    "birth_date": "1986-03-14",
    "email": "folake.adeyemi@example.org",
    "condition": "Iron deficiency without anaemia (ferritin 18 ug/L)",
    "onset": "2026-05-20",
    "allergy": ("Chlorhexidine", "Contact dermatitis", "moderate"),
    "density": 118.0,
    "performer": "Dr Samuel Okoye, St Mark's Dermatology",
    "product": "Dermaheal HL",
    "lots": ("DH-2291", "DH-2304"),
    "expires": "2027-05-31",
}
_MADRID: dict[str, Any] = {
    "referrer": "https://dermatologia.hospital-norte.example.org",
    "record": "HN-770142",
    "family": "Navarro Gil",
    "given": ["Marta"],
    "gender": "female",
    "birth_date": "1991-09-02",
    "email": "marta.navarro@example.org",
    "condition": "Telogen effluvium after COVID-19 (2026)",
    "onset": "2026-06-10",
    "allergy": ("Lidocaína", "Urticaria", "mild"),
    "density": 131.0,
    "performer": "Dra. Elena Ruiz, Hospital Norte Dermatología",
    "product": "Cóctel vitamínico Hospital Norte",
    "lots": ("HN-V-0925", "HN-V-1025"),
    "expires": "2027-02-28",
}


# (clinic, its clinician who imports, the referral): one new patient per clinic
REFERRALS = ((MAIN_CLINIC, "dr.moreau", _LONDON), (SECOND_CLINIC, "dr.garcia", _MADRID))


def referral_bundle(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The referrer's transaction Bundle: measured 70 days ago, sessions 63 and 35 days ago."""
    referrer = data["referrer"]
    patient_url = f"{referrer}/Patient/{data['record']}"
    subject = {"reference": patient_url}
    measured = (now - timedelta(days=70)).replace(hour=9, minute=40, second=0, microsecond=0)
    entries: list[dict[str, Any]] = [
        _entry(
            patient_url,
            {
                "resourceType": "Patient",
                "identifier": [{"system": f"{referrer}/mrn", "value": data["record"]}],
                "name": [{"use": "official", "family": data["family"], "given": data["given"]}],
                "gender": data["gender"],
                "birthDate": data["birth_date"],
                "telecom": [{"system": "email", "value": data["email"]}],
            },
        ),
        _entry(
            f"{referrer}/Condition/{data['record']}-1",
            {
                "resourceType": "Condition",
                "identifier": [{"system": f"{referrer}/condition", "value": f"{data['record']}-1"}],
                "code": {"text": data["condition"]},
                "subject": subject,
                "onsetDateTime": data["onset"],
            },
        ),
        _entry(
            f"{referrer}/AllergyIntolerance/{data['record']}-1",
            {
                "resourceType": "AllergyIntolerance",
                "code": {"text": data["allergy"][0]},
                "patient": subject,
                "reaction": [
                    {
                        "manifestation": [{"text": data["allergy"][1]}],
                        "severity": data["allergy"][2],
                    }
                ],
            },
        ),
        _entry(
            f"{referrer}/Observation/{data['record']}-density",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": codes.HAIR_METRIC, "code": "density_total"}]},
                "subject": subject,
                "effectiveDateTime": measured.isoformat(),
                "valueQuantity": {
                    "value": data["density"],
                    "unit": "/cm2",
                    "system": codes.UCUM,
                    "code": "/cm2",
                },
                "bodySite": {
                    "coding": [{"system": codes.SCALP_SITE, "code": "vertex"}],
                    "text": "Vertex",
                },
            },
        ),
    ]
    for number, days_ago in enumerate((63, 35), start=1):
        given = (now - timedelta(days=days_ago)).replace(hour=11, minute=0, second=0, microsecond=0)
        entries += _session(data, subject, given, number)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _session(
    data: dict[str, Any], subject: dict[str, str], given: datetime, number: int
) -> list[dict[str, Any]]:
    referrer, record = data["referrer"], data["record"]
    procedure_url = f"{referrer}/Procedure/{record}-S{number}"
    lot = data["lots"][number - 1]
    procedure = {
        "resourceType": "Procedure",
        "identifier": [{"system": f"{referrer}/procedure", "value": f"{record}-S{number}"}],
        "status": "completed",
        "code": {"text": "Scalp mesotherapy"},
        "subject": subject,
        "performedDateTime": given.isoformat(),
        "performer": [{"actor": {"display": data["performer"]}}],
        "bodySite": [
            {"coding": [{"system": codes.SCALP_SITE, "code": zone}]}
            for zone in ("frontal", "mid-scalp", "vertex")
        ],
        "usedCode": [{"coding": [{"system": codes.TECHNIQUE, "code": "nappage"}]}],
        "outcome": {"text": "Completed; well tolerated"},
    }
    administration = {
        "resourceType": "MedicationAdministration",
        "identifier": [{"system": f"{referrer}/administration", "value": f"{record}-S{number}"}],
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {"text": data["product"]},
                "batch": {"lotNumber": lot, "expirationDate": data["expires"]},
            }
        ],
        "status": "completed",
        "medicationReference": {"reference": "#med"},
        "subject": subject,
        "partOf": [{"reference": procedure_url}],
        "effectiveDateTime": given.isoformat(),
        "dosage": {"dose": {"value": 2.0, "unit": "mL", "system": codes.UCUM, "code": "mL"}},
    }
    return [
        _entry(procedure_url, procedure),
        _entry(f"{referrer}/MedicationAdministration/{record}-S{number}", administration),
    ]


def _entry(url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }
