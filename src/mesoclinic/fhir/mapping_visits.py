"""Visits to FHIR: a Procedure per visit, a MedicationAdministration per lot used (the cocktail
with its batch and expiry in a contained Medication) and an AdverseEvent per recorded event.

Pure. The route (intradermal, SNOMED 372464004) is a property of the administration, so it sits
on MedicationAdministration.dosage.route; the Procedure carries the treated zones as bodySite.
"""

from __future__ import annotations

from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, fhir_date, instant, note, pruned, ref, staff, validated
from mesoclinic.visits.models import AdverseEvent, Visit, VisitLot, VisitStatus

UCUM_ML = {"unit": "mL", "system": codes.UCUM, "code": "mL"}
ONSET_WORDS = {"during": "during the visit", "same_day": "later the same day", "later": "later"}


def _voided(visit: Visit) -> bool:
    return visit.status == VisitStatus.ENTERED_IN_ERROR


def zone_concept(zone: str) -> Resource:
    """One treated zone: scalp (SNOMED) plus the local scalp-site code."""
    site = codes.ZONE_TO_SITE.get(zone, zone)
    display = codes.SCALP_SITE_DISPLAYS.get(site, zone)
    return codes.concept(
        codes.SCALP_CODING, codes.coding(codes.SCALP_SITE, site, display), text=display
    )


def _technique_text(visit: Visit) -> str:
    technique = codes.TECHNIQUE_DISPLAYS.get(visit.technique, visit.technique)
    parts = [
        f"Technique: {technique}",
        f"depth {visit.depth_mm:g} mm",
        f"{visit.points} points x {visit.volume_per_point_ml:g} mL",
        f"total {visit.total_volume_ml:g} mL",
        f"needle {visit.needle_gauge} G {visit.needle_length_mm:g} mm",
    ]
    if visit.prp_given:
        parts.append(f"PRP given ({visit.prp_volume_ml or 0:g} mL)")
    if visit.pain_score is not None:
        parts.append(f"pain {visit.pain_score}/10")
    return "; ".join(parts)


def _events(visit: Visit) -> list[AdverseEvent]:
    return [e for e in visit.adverse_events if e.type != "none"]


def _outcome(visit: Visit) -> str:
    events = _events(visit)
    if not events:
        return "Completed without adverse events"
    listed = ", ".join(
        f"{e.type.replace('_', ' ')}" + (f" ({e.severity})" if e.severity else "") for e in events
    )
    return f"Completed; adverse events: {listed}"


def procedure_resource(visit: Visit, *, practitioner: str, practitioner_name: str) -> Resource:
    """One visit: scalp mesotherapy on the treated zones, who did it, and how it went."""
    code = codes.PROCEDURE_MESOTHERAPY
    used = [codes.concept(codes.coding(codes.TECHNIQUE, visit.technique))]
    return validated(
        pruned(
            {
                "resourceType": "Procedure",
                "id": str(visit.id),
                "status": "entered-in-error" if _voided(visit) else "completed",
                "code": codes.concept(
                    codes.coding(codes.PROCEDURE, code, codes.PROCEDURE_DISPLAYS[code]),
                    text=codes.PROCEDURE_DISPLAYS[code],
                ),
                "subject": ref("Patient", visit.patient_id),
                "performedDateTime": instant(visit.performed_at),
                "recorder": staff(visit.created_by),
                "performer": [{"actor": staff(practitioner, practitioner_name)}],
                "bodySite": [zone_concept(z) for z in visit.zones] or [codes.SCALP_CONCEPT],
                "outcome": {"text": _outcome(visit)},
                "complication": [
                    codes.concept(
                        codes.coding(codes.ADVERSE_EVENT, e.type), text=e.type.replace("_", " ")
                    )
                    for e in _events(visit)
                ],
                "usedCode": used,
                "note": note("\n".join(t for t in (_technique_text(visit), visit.notes) if t)),
            }
        )
    )


def _medication(visit: Visit, used: VisitLot | None) -> Resource:
    cocktail = visit.cocktail
    ingredients = [
        {
            "itemCodeableConcept": {
                "text": f"{line.ingredient.name} {line.concentration:g} {line.unit}"
            }
        }
        for line in cocktail.lines
    ]
    batch = None
    if used is not None:
        batch = {
            "lotNumber": used.lot.batch_number,
            "expirationDate": fhir_date(used.lot.expires_on),
        }
    product = used.lot.product.name if used is not None else cocktail.name
    return {
        "resourceType": "Medication",
        "id": "lot",
        "identifier": [{"system": codes.LOT_SYSTEM, "value": str(used.lot_id)}] if used else None,
        "code": {"text": f"{product} ({cocktail.name})" if used else cocktail.name},
        "ingredient": ingredients,
        "batch": batch,
    }


def administration_id(visit: Visit, used: VisitLot | None) -> str:
    """The lot line's own id, or the visit's id for a visit that recorded no lot."""
    return str(used.id) if used is not None else str(visit.id)


def _administration(
    visit: Visit, used: VisitLot | None, practitioner: str, practitioner_name: str
) -> Resource:
    volume = used.volume_ml if used is not None else visit.total_volume_ml
    return validated(
        pruned(
            {
                "resourceType": "MedicationAdministration",
                "id": administration_id(visit, used),
                "contained": [_medication(visit, used)],
                "partOf": [ref("Procedure", visit.id)],
                "status": "entered-in-error" if _voided(visit) else "completed",
                "medicationReference": {"reference": "#lot"},
                "subject": ref("Patient", visit.patient_id),
                "effectiveDateTime": instant(visit.performed_at),
                "performer": [{"actor": staff(practitioner, practitioner_name)}],
                "dosage": {
                    "text": _technique_text(visit),
                    "site": codes.SCALP_CONCEPT,
                    "route": codes.INTRADERMAL_CONCEPT,
                    "method": codes.concept(
                        codes.coding(
                            codes.TECHNIQUE,
                            visit.technique,
                            codes.TECHNIQUE_DISPLAYS.get(visit.technique),
                        )
                    ),
                    "dose": {"value": volume} | UCUM_ML,
                },
            }
        )
    )


def administration_resources(
    visit: Visit, *, practitioner: str, practitioner_name: str
) -> list[Resource]:
    """One MedicationAdministration per lot used (lot number, expiry, volume), or one for the
    cocktail when the visit recorded no lot."""
    lots: list[VisitLot | None] = list(visit.lots_used) or [None]
    return [_administration(visit, used, practitioner, practitioner_name) for used in lots]


def adverse_event_resource(event: AdverseEvent, visit: Visit) -> Resource:
    """A recorded adverse event of a visit, suspected to come from that visit's procedure."""
    texts = [f"Onset {ONSET_WORDS[event.onset]}" if event.onset in ONSET_WORDS else "", event.note]
    outcome = codes.ADVERSE_OUTCOME.get(event.outcome or "")
    return validated(
        pruned(
            {
                "resourceType": "AdverseEvent",
                "id": str(event.id),
                "actuality": "actual",
                "event": codes.concept(
                    codes.coding(codes.ADVERSE_EVENT, event.type), text=event.type.replace("_", " ")
                ),
                "subject": ref("Patient", visit.patient_id),
                "date": instant(visit.performed_at),
                "recorder": staff(visit.created_by),
                "seriousness": codes.concept(
                    codes.coding(codes.ADVERSE_EVENT_SERIOUSNESS, "non-serious", "Non-serious")
                ),
                "severity": codes.concept(
                    codes.coding(codes.ADVERSE_EVENT_SEVERITY, event.severity)
                )
                if event.severity
                else None,
                "outcome": codes.concept(codes.coding(codes.ADVERSE_EVENT_OUTCOME, outcome))
                if outcome
                else None,
                "suspectEntity": [{"instance": ref("Procedure", visit.id)}],
                "extension": [
                    {"url": ADVERSE_NOTE_EXTENSION, "valueString": "; ".join(t for t in texts if t)}
                ]
                if any(texts)
                else None,
            }
        )
    )


# R4B AdverseEvent has no `note`; the onset and the clinician's note travel in this extension.
ADVERSE_NOTE_EXTENSION = f"{codes.BASE}/StructureDefinition/adverse-event-note"
