"""Outcomes to FHIR: Observation per measurement, BodyStructure per marked site, Media per image.

Pure: ORM rows in, validated dicts out. No LOINC code exists for the hair metrics
(docs/clinical-sources.md#fhir-coding), so they are coded in the local `hair-metric` CodeSystem
with UCUM units; the marked site is `bodySite` (SNOMED scalp plus the local site code).
"""

from __future__ import annotations

from mesoclinic.db import RecordStatus
from mesoclinic.fhir import codes
from mesoclinic.fhir.build import Resource, instant, note, pruned, ref, staff, validated
from mesoclinic.outcomes.kinds import MeasurementKind
from mesoclinic.outcomes.models import (
    ClinicalImage,
    Measurement,
    MeasurementSite,
    MeasurementSource,
)

# Observation.bodySite is a concept in R4; this extension points at the marked site itself.
MEASUREMENT_SITE_EXTENSION = f"{codes.BASE}/StructureDefinition/measurement-site"
# Patient-reported kinds are surveys, not examinations.
SURVEY_KINDS = frozenset({"patient_satisfaction", "shedding_score"})
IMAGE_FILE_PATH = "/api/v1/images/{id}/file"


def site_concept(site: MeasurementSite | None) -> Resource:
    """Scalp (SNOMED 41695006), plus the marked site's local code and label when there is one."""
    if site is None:
        return codes.concept(codes.SCALP_CODING)
    return codes.concept(
        codes.SCALP_CODING,
        codes.coding(
            codes.SCALP_SITE, str(site.location), codes.SCALP_SITE_DISPLAYS.get(site.location)
        ),
        text=site.label,
    )


def _category(measurement: Measurement) -> Resource:
    if measurement.kind in SURVEY_KINDS:
        code, display = "survey", "Survey"
    elif measurement.source == MeasurementSource.IMAGE_ANALYSIS:
        code, display = "imaging", "Imaging"
    else:
        code, display = "exam", "Exam"
    return codes.concept(codes.coding(codes.OBSERVATION_CATEGORY, code, display))


def _device(measurement: Measurement) -> Resource | None:
    if measurement.algorithm_version:
        return {"display": f"mesoclinic image analysis {measurement.algorithm_version}"}
    if measurement.device_name:
        return {"display": measurement.device_name}
    return None


def _notes(measurement: Measurement) -> list[Resource] | None:
    texts = [measurement.note or ""]
    if measurement.rater:
        blinded = " (blinded)" if measurement.blinded else ""
        texts.append(f"Rated by {measurement.rater}{blinded}")
    if measurement.void_reason:
        texts.append(f"Entered in error: {measurement.void_reason}")
    return note("\n".join(t for t in texts if t) or None)


def observation_resource(measurement: Measurement, kind: MeasurementKind | None = None) -> Resource:
    """One measured value with its UCUM unit, site, method, device and source image."""
    label = kind.label if kind else measurement.kind
    on_scalp = measurement.site is not None or (kind is not None and kind.site != "none")
    return validated(
        pruned(
            {
                "resourceType": "Observation",
                "id": str(measurement.id),
                "extension": [
                    {
                        "url": MEASUREMENT_SITE_EXTENSION,
                        "valueReference": ref("BodyStructure", measurement.site_id),
                    }
                ]
                if measurement.site_id
                else None,
                "status": str(measurement.status),
                "partOf": [ref("Procedure", measurement.visit_id)]
                if measurement.visit_id
                else None,
                "category": [_category(measurement)],
                "code": codes.concept(
                    codes.coding(codes.HAIR_METRIC, measurement.kind, label), text=label
                ),
                "subject": ref("Patient", measurement.patient_id),
                "effectiveDateTime": instant(measurement.measured_at),
                "issued": instant(measurement.created_at),
                "performer": [staff(measurement.recorded_by)],
                "valueQuantity": {
                    "value": measurement.value,
                    "unit": measurement.unit,
                    "system": codes.UCUM,
                    "code": measurement.unit,
                },
                "note": _notes(measurement),
                "bodySite": site_concept(measurement.site) if on_scalp else None,
                "method": codes.concept(
                    codes.coding(
                        codes.MEASUREMENT_METHOD,
                        str(measurement.source),
                        codes.MEASUREMENT_METHOD_DISPLAYS.get(measurement.source),
                    )
                ),
                "device": _device(measurement),
                "derivedFrom": [ref("Media", measurement.image_id)]
                if measurement.image_id
                else None,
            }
        )
    )


def body_structure_resource(site: MeasurementSite) -> Resource:
    """A marked measurement site: found again at each follow-up, like with like."""
    return validated(
        pruned(
            {
                "resourceType": "BodyStructure",
                "id": str(site.id),
                "active": site.status == RecordStatus.ACTIVE,
                "location": site_concept(site),
                "description": site.description or site.label,
                "patient": ref("Patient", site.patient_id),
            }
        )
    )


def media_resource(image: ClinicalImage, *, with_binary: bool) -> Resource:
    """A trichoscopy image or clinical photo; the file's address only with photo consent."""
    content: Resource = {
        "contentType": image.blob.media_type,
        "size": image.blob.byte_size,
        "title": image.original_filename or None,
        "creation": instant(image.taken_at),
    }
    if with_binary:
        content["url"] = IMAGE_FILE_PATH.format(id=image.id)
    return validated(
        pruned(
            {
                "resourceType": "Media",
                "id": str(image.id),
                "status": "entered-in-error"
                if image.status == RecordStatus.ENTERED_IN_ERROR
                else "completed",
                "type": codes.concept(codes.coding(codes.MEDIA_TYPE, "image", "Image")),
                "modality": codes.concept(codes.coding(codes.IMAGE_KIND, str(image.kind))),
                "view": codes.concept(codes.coding(codes.PHOTO_VIEW, str(image.view)))
                if image.view
                else None,
                "subject": ref("Patient", image.patient_id),
                "partOf": [ref("Procedure", image.visit_id)] if image.visit_id else None,
                "createdDateTime": instant(image.taken_at),
                "operator": staff(image.created_by),
                "bodySite": site_concept(image.site),
                "deviceName": image.device_profile,
                "height": image.blob.height,
                "width": image.blob.width,
                "content": content,
                "note": note(image.note),
            }
        )
    )
