"""Who recorded what: a Provenance per recorded resource, and the photo-use Consent. Pure."""

from __future__ import annotations

from datetime import datetime

from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, instant, pruned, ref, staff, validated
from mesoclinic.outcomes.models import PhotoConsent

PHOTO_USES = (
    ("clinical-record", "clinical_record"),
    ("teaching", "teaching"),
    ("marketing", "marketing"),
)


def provenance_resource(
    targets: list[Resource], *, recorded_at: datetime, username: str
) -> Resource | None:
    """Who recorded these resources (one record: a visit and its administrations), and when.

    The Provenance takes the id of its first target (UUIDs do not repeat across record types),
    so `GET /fhir/Provenance/{id}` finds it again; None when nobody is named.
    """
    who = staff(username)
    if who is None or not targets:
        return None
    return validated(
        pruned(
            {
                "resourceType": "Provenance",
                "id": targets[0]["id"],
                "target": [ref(t["resourceType"], t["id"]) for t in targets],
                "recorded": instant(recorded_at),
                "activity": codes.concept(codes.coding(codes.DATA_OPERATION, "CREATE", "create")),
                "agent": [
                    {
                        "type": codes.concept(
                            codes.coding(codes.PROVENANCE_PARTICIPANT, "author", "Author")
                        ),
                        "who": who,
                    }
                ],
            }
        )
    )


def photo_consent_resource(consent: PhotoConsent) -> Resource:
    """What the patient allows their photos to be used for: one nested provision per use."""
    return validated(
        pruned(
            {
                "resourceType": "Consent",
                "id": str(consent.id),
                "status": "inactive" if consent.withdrawn_at else "active",
                "scope": codes.concept(
                    codes.coding(codes.CONSENT_SCOPE, "patient-privacy", "Privacy Consent")
                ),
                "category": [
                    codes.concept(codes.coding(codes.LOINC, codes.CONSENT_LOINC, "Patient consent"))
                ],
                "patient": ref("Patient", consent.patient_id),
                "dateTime": instant(consent.signed_at),
                "performer": [{"display": consent.signed_by}],
                "policyRule": {"text": "Use of clinical photographs"},
                "provision": {
                    "type": "deny",
                    "period": {
                        "start": instant(consent.signed_at),
                        "end": instant(consent.withdrawn_at) if consent.withdrawn_at else None,
                    },
                    "provision": [
                        {
                            "type": "permit" if getattr(consent, field) else "deny",
                            "purpose": [codes.coding(codes.PHOTO_USE, use, display)],
                        }
                        for use, field in PHOTO_USES
                        for display in (codes.PHOTO_USE_DISPLAYS[use],)
                    ],
                },
            }
        )
    )
