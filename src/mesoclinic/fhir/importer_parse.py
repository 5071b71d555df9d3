"""Reading a transaction Bundle (a referral) into plain records, before anything is stored.

Pure: a JSON dict in, `Parsed` (patients and their history and measurements) or the list of
problems out, each naming its element with a FHIRPath expression such as
`Bundle.entry[2].resource.valueQuantity.unit`. Every resource is first validated with the
fhir.resources (R4B) models, then read field by field into what mesoclinic stores.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from mesoclinic.fhir import codes
from mesoclinic.fhir.importer_read import (
    Reader,
    code_in,
    concept_text,
    date_of,
    entry_keys,
    extension_code,
    fhirpath,
    instant_of,
    notes_of,
    reference_keys,
    subject_of,
    validate,
)
from mesoclinic.fhir.importer_records import (
    AllergyIn,
    BundleRefused,
    ConditionIn,
    Issue,
    MeasurementIn,
    MedicationIn,
    Parsed,
    PatientIn,
    PregnancyIn,
    Source,
)
from mesoclinic.fhir.importer_sessions import (
    check_administrations,
    read_administration,
    read_procedure,
)
from mesoclinic.fhir.mapping_patient import ALLERGY_SEVERITY_EXTENSION

# What a referral may carry, in the order it is stored (patients first: the rest refer to them).
IMPORTABLE = (
    "Patient",
    "Condition",
    "AllergyIntolerance",
    "MedicationStatement",
    "Observation",
    "Procedure",
    "MedicationAdministration",
)
SEVERITIES = {"mild", "moderate", "severe", "unknown"}
CRITICALITY_SEVERITY = {"high": "severe", "low": "mild"}


def parse_bundle(bundle: Any) -> Parsed:
    """The referral's records, or BundleRefused naming every problem found."""
    reader = Reader()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleRefused([Issue("Bundle", "the body is not a FHIR Bundle", "structure")], 400)
    if bundle.get("type") != "transaction":
        raise BundleRefused(
            [Issue("Bundle.type", "only a transaction Bundle can be imported", "value")], 400
        )
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BundleRefused([Issue("Bundle.entry", "must be a list of entries", "structure")], 400)
    # The bundle's own elements first; each resource is validated on its own below, so that
    # its problems are named and the resource types we do not import are refused as such.
    shell = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
    from fhir.resources.R4B import (
        get_fhir_model_class,
    )  # loaded on first use (issue 18)

    try:
        get_fhir_model_class("Bundle").model_validate(shell)
    except ValidationError as error:
        raise BundleRefused(
            [Issue(fhirpath("Bundle", tuple(e["loc"])), e["msg"]) for e in error.errors()[:20]]
        ) from error
    if not entries:
        raise BundleRefused([Issue("Bundle.entry", "the bundle has no entries", "required")])
    parsed = Parsed()
    patients_by_ref: dict[str, PatientIn] = {}
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}].resource"
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            reader.problem(path, "the entry has no resource", "required")
            continue
        kind = resource.get("resourceType")
        if kind not in IMPORTABLE:
            reader.problem(
                f"{path}.resourceType",
                f"{kind} cannot be imported here (a referral carries {', '.join(IMPORTABLE)})",
                "not-supported",
            )
            continue
        method = (entry.get("request") or {}).get("method")
        if method not in ("POST", "PUT"):
            reader.problem(
                f"Bundle.entry[{index}].request.method",
                "each entry is created or updated (POST or PUT)",
                "not-supported",
            )
            continue
        source = Source(index, kind, entry_keys(entry, resource))
        before = len(reader.issues)
        if kind == "Patient":
            patient = _patient(reader, source, reference_keys(entry, resource), resource, path)
            if patient is not None and len(reader.issues) == before:
                parsed.patients.append(patient)
                for key in patient.ref_keys:
                    patients_by_ref[key] = patient
            continue
        if kind == "Procedure":
            read_procedure(reader, parsed, source, reference_keys(entry, resource), resource, path)
            continue
        _clinical(reader, parsed, source, resource, path)
    check_administrations(reader, parsed, patients_by_ref)
    for item in _clinical_items(parsed):
        if item.patient_ref not in patients_by_ref:
            element = "patient" if item.source.resource_type == "AllergyIntolerance" else "subject"
            reader.problem(
                f"{item.source.path}.{element}",
                "must refer to a Patient entry of this bundle "
                f"(by its fullUrl or Patient/<id>); found {item.patient_ref!r}",
                "invalid",
            )
    if reader.issues:
        raise BundleRefused(reader.issues)
    return parsed


def _clinical_items(parsed: Parsed) -> list[Any]:
    return [
        *parsed.conditions,
        *parsed.allergies,
        *parsed.medications,
        *parsed.pregnancies,
        *parsed.measurements,
        *parsed.procedures,
        *parsed.administrations,
    ]


def _patient(
    reader: Reader,
    source: Source,
    ref_keys: tuple[str, ...],
    resource: dict[str, Any],
    path: str,
) -> PatientIn | None:
    if not validate(reader, resource, path):
        return None
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given") or []).strip()
    family = (name.get("family") or "").strip()
    if not given:
        reader.problem(f"{path}.name[0].given", "the patient's given name is missing", "required")
    if not family:
        reader.problem(f"{path}.name[0].family", "the patient's family name is missing", "required")
    birth = date_of(resource.get("birthDate"))
    if birth is None:
        reader.problem(f"{path}.birthDate", "the full date of birth is needed", "required")
    gender = resource.get("gender") or "unknown"
    telecom = resource.get("telecom") or []
    phone = next((t.get("value") for t in telecom if t.get("system") == "phone"), None)
    email = next((t.get("value") for t in telecom if t.get("system") == "email"), None)
    addresses = resource.get("address") or [{}]
    address = addresses[0]
    country = address.get("country")
    if country is not None and (len(country) != 2 or not country.isalpha()):
        reader.problem(
            f"{path}.address[0].country", "must be a two-letter country code, like GB", "value"
        )
    record_numbers = tuple(
        (str(i["system"]), str(i["value"]))
        for i in resource.get("identifier") or []
        if i.get("system")
        and i.get("value")
        and codes.clinic_id_from_record_system(i["system"]) is not None
    )
    if birth is None or not given or not family:
        return None
    return PatientIn(
        source=source,
        ref_keys=ref_keys,
        given_name=given[:100],
        family_name=family[:100],
        birth_date=birth,
        sex=codes.GENDER.get(gender, "unknown"),
        phone=phone,
        email=email,
        address_line=", ".join(address.get("line") or []) or None,
        city=address.get("city"),
        postal_code=address.get("postalCode"),
        country=country.upper() if country else None,
        record_numbers=record_numbers,
    )


def _clinical(
    reader: Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    if not validate(reader, resource, path):
        return
    kind = resource["resourceType"]
    if kind == "Condition":
        name = concept_text(resource.get("code"))
        if not name:
            reader.problem(f"{path}.code", "the condition needs a code or text", "required")
            return
        parsed.conditions.append(
            ConditionIn(
                source,
                subject_of(resource),
                name[:120],
                code_in(resource.get("code"), codes.HISTORY_CONDITION) or "other",
                date_of(resource.get("onsetDateTime")),
                notes_of(resource),
            )
        )
    elif kind == "AllergyIntolerance":
        substance = concept_text(resource.get("code"))
        if not substance:
            reader.problem(
                f"{path}.code", "the allergy needs a substance (code or text)", "required"
            )
            return
        reactions = resource.get("reaction") or [{}]
        reaction = reactions[0]
        severity = (
            extension_code(resource, ALLERGY_SEVERITY_EXTENSION)
            or reaction.get("severity")
            or CRITICALITY_SEVERITY.get(resource.get("criticality") or "", "unknown")
        )
        manifestation = ", ".join(
            filter(None, (concept_text(m) for m in reaction.get("manifestation") or []))
        )
        parsed.allergies.append(
            AllergyIn(
                source,
                subject_of(resource, "patient"),
                substance[:120],
                manifestation[:200] or None,
                severity if severity in SEVERITIES else "unknown",
                notes_of(resource),
            )
        )
    elif kind == "MedicationStatement":
        _medication(reader, parsed, source, resource, path)
    elif kind == "Observation":
        _observation(reader, parsed, source, resource, path)
    elif kind == "MedicationAdministration":
        read_administration(reader, parsed, source, resource, path)


def _medication(
    reader: Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    name = concept_text(resource.get("medicationCodeableConcept"))
    if not name:
        reader.problem(
            f"{path}.medicationCodeableConcept", "the medication needs a name", "required"
        )
        return
    period = resource.get("effectivePeriod") or {}
    dosage = resource.get("dosage") or [{}]
    category = code_in(resource.get("category"), codes.MEDICATION_CATEGORY) or "other"
    parsed.medications.append(
        MedicationIn(
            source,
            subject_of(resource),
            name[:120],
            (dosage[0].get("text") or None) and str(dosage[0]["text"])[:80],
            category,
            date_of(period.get("start") or resource.get("effectiveDateTime")),
            date_of(period.get("end")),
            notes_of(resource),
        )
    )


def _observation(
    reader: Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    code = resource.get("code") or {}
    if code_in(code, codes.LOINC) == codes.PREGNANCY_STATUS_LOINC:
        value = code_in(resource.get("valueCodeableConcept"), codes.PREGNANCY_VALUE)
        if value is None:
            snomed = code_in(resource.get("valueCodeableConcept"), codes.SNOMED)
            value = {v[0]: k for k, v in codes.PREGNANCY_SNOMED.items()}.get(snomed or "")
        if value not in codes.PREGNANCY_DISPLAYS:
            reader.problem(
                f"{path}.valueCodeableConcept",
                "a pregnancy status is pregnant, breastfeeding, not pregnant or unknown",
                "value",
            )
            return
        parsed.pregnancies.append(
            PregnancyIn(
                source,
                subject_of(resource),
                value,
                instant_of(resource.get("effectiveDateTime")),
                notes_of(resource),
            )
        )
        return
    kind = code_in(code, codes.HAIR_METRIC)
    if kind is None:
        reader.problem(
            f"{path}.code",
            f"not a measurement this clinic records (use a code of {codes.HAIR_METRIC})",
            "code-invalid",
        )
        return
    quantity = resource.get("valueQuantity")
    if not quantity or quantity.get("value") is None:
        reader.problem(f"{path}.valueQuantity", "the measured value is missing", "required")
        return
    unit = quantity.get("code") or quantity.get("unit")
    if not unit:
        reader.problem(f"{path}.valueQuantity.unit", "the unit (UCUM) is missing", "required")
        return
    number = float(quantity["value"])
    if not math.isfinite(number):
        reader.problem(f"{path}.valueQuantity.value", "not a number", "value")
        return
    measured_at = instant_of(resource.get("effectiveDateTime"))
    if measured_at is None:
        reader.problem(f"{path}.effectiveDateTime", "when it was measured is missing", "required")
        return
    body = resource.get("bodySite") or {}
    device_name = (resource.get("device") or {}).get("display") or None
    note, rater, blinded = _rating(notes_of(resource))
    parsed.measurements.append(
        MeasurementIn(
            source,
            subject_of(resource),
            kind,
            number,
            str(unit),
            measured_at,
            str(device_name)[:120] if device_name else None,
            code_in(body, codes.SCALP_SITE),
            (body.get("text") or None),
            rater,
            blinded,
            note,
        )
    )


RATED_BY = "Rated by "
BLINDED = " (blinded)"


def _rating(text: str | None) -> tuple[str | None, str | None, bool | None]:
    """(note, rater, blinded) from an Observation's notes: the rater of a global photographic
    assessment travels as a "Rated by NAME (blinded)" line; the entered-in-error line is left
    out (voided values are not imported)."""
    if not text:
        return None, None, None
    lines, rater, blinded = [], None, None
    for line in text.splitlines():
        if line.startswith(RATED_BY):
            rater = line[len(RATED_BY) :]
            blinded = rater.endswith(BLINDED)
            rater = rater.removesuffix(BLINDED).strip()[:120] or None
        elif not line.startswith("Entered in error:"):
            lines.append(line)
    return "\n".join(lines) or None, rater, blinded


def transaction_bundle(resources: list[dict[str, Any]], base: str = "") -> dict[str, Any]:
    """A transaction Bundle that creates or updates these resources (an export read back):
    each entry's fullUrl is `<base>/<Type>/<id>` (or `urn:uuid:<id>`); references `Type/id`
    resolve inside it."""
    order = {kind: n for n, kind in enumerate(IMPORTABLE)}
    wanted = sorted(
        (r for r in resources if r.get("resourceType") in order),
        key=lambda r: order[r["resourceType"]],
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}"
                if base
                else f"urn:uuid:{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in wanted
        ],
    }
