"""Reading a transaction Bundle (a referral) into plain records, before anything is stored.

Pure: a JSON dict in, `Parsed` (patients and their history and measurements) or the list of
problems out, each naming its element with a FHIRPath expression such as
`Bundle.entry[2].resource.valueQuantity.unit`. Every resource is first validated with the
fhir.resources (R4B) models, then read field by field into what mesoclinic stores.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from mesoclinic.fhir import codes
from mesoclinic.fhir.importer_records import (
    AdministrationIn,
    AllergyIn,
    BundleRefused,
    ConditionIn,
    Issue,
    MeasurementIn,
    MedicationIn,
    Parsed,
    PatientIn,
    PregnancyIn,
    ProcedureIn,
    Source,
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


def fhirpath(prefix: str, loc: tuple[int | str, ...]) -> str:
    """`prefix.a.b[1].c` from a pydantic error location."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "__root__":
            out += f".{part}"
    return out


class _Reader:
    """Collects the problems of one bundle while reading its entries."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def problem(self, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(path, message, code))

    def text(self, resource: dict[str, Any], path: str, name: str, *, limit: int) -> str | None:
        value = resource.get(name)
        if value is None:
            return None
        value = str(value).strip()
        if len(value) > limit:
            self.problem(f"{path}.{name}", f"longer than {limit} characters", "value")
            return None
        return value or None


def _concept_text(concept: dict[str, Any] | None) -> str | None:
    if not concept:
        return None
    if concept.get("text"):
        return str(concept["text"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"]).strip()
    return None


def _code_in(concept: dict[str, Any] | None, system: str) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return None


def _extension_code(resource: dict[str, Any], url: str) -> str | None:
    for extension in resource.get("extension") or []:
        if extension.get("url") == url and extension.get("valueCode"):
            return str(extension["valueCode"])
    return None


def _notes(resource: dict[str, Any]) -> str | None:
    texts = [str(n["text"]).strip() for n in resource.get("note") or [] if n.get("text")]
    return "\n".join(texts) or None


def _date_of(value: str | None) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value[:10]) if len(value) >= 10 else None


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _keys(entry: dict[str, Any], resource: dict[str, Any]) -> tuple[str, ...]:
    keys = [
        f"identifier|{i.get('system', '')}|{i['value']}"
        for i in resource.get("identifier") or []
        if i.get("value")
    ]
    if entry.get("fullUrl"):
        keys.append(f"url|{entry['fullUrl']}")
    if resource.get("id"):
        keys.append(f"id|{resource['resourceType']}/{resource['id']}")
    return tuple(dict.fromkeys(keys))


def _ref_keys(entry: dict[str, Any], resource: dict[str, Any]) -> tuple[str, ...]:
    """Every way a reference in the bundle may name this resource."""
    out = []
    if entry.get("fullUrl"):
        out.append(str(entry["fullUrl"]))
    if resource.get("id"):
        kind, rid = resource["resourceType"], resource["id"]
        out.append(f"{kind}/{rid}")
        if entry.get("fullUrl", "").endswith(f"/{kind}/{rid}"):
            out.append(entry["fullUrl"])
    return tuple(dict.fromkeys(out))


def parse_bundle(bundle: Any) -> Parsed:
    """The referral's records, or BundleRefused naming every problem found."""
    reader = _Reader()
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
        source = Source(index, kind, _keys(entry, resource))
        before = len(reader.issues)
        if kind == "Patient":
            patient = _patient(reader, source, _ref_keys(entry, resource), resource, path)
            if patient is not None and len(reader.issues) == before:
                parsed.patients.append(patient)
                for key in patient.ref_keys:
                    patients_by_ref[key] = patient
            continue
        if kind == "Procedure":
            _procedure(reader, parsed, source, _ref_keys(entry, resource), resource, path)
            continue
        _clinical(reader, parsed, source, resource, path)
    _check_administrations(reader, parsed, patients_by_ref)
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


def _validate(reader: _Reader, resource: dict[str, Any], path: str) -> bool:
    model = get_fhir_model_class(resource["resourceType"])
    try:
        model.model_validate(resource)
    except ValidationError as error:
        for e in error.errors()[:20]:
            reader.problem(fhirpath(path, tuple(e["loc"])), e["msg"])
        return False
    return True


def _patient(
    reader: _Reader,
    source: Source,
    ref_keys: tuple[str, ...],
    resource: dict[str, Any],
    path: str,
) -> PatientIn | None:
    if not _validate(reader, resource, path):
        return None
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given") or []).strip()
    family = (name.get("family") or "").strip()
    if not given:
        reader.problem(f"{path}.name[0].given", "the patient's given name is missing", "required")
    if not family:
        reader.problem(f"{path}.name[0].family", "the patient's family name is missing", "required")
    birth = _date_of(resource.get("birthDate"))
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


def _subject(resource: dict[str, Any], name: str = "subject") -> str:
    return str((resource.get(name) or {}).get("reference") or "")


def _clinical(
    reader: _Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    if not _validate(reader, resource, path):
        return
    kind = resource["resourceType"]
    if kind == "Condition":
        name = _concept_text(resource.get("code"))
        if not name:
            reader.problem(f"{path}.code", "the condition needs a code or text", "required")
            return
        parsed.conditions.append(
            ConditionIn(
                source,
                _subject(resource),
                name[:120],
                _code_in(resource.get("code"), codes.HISTORY_CONDITION) or "other",
                _date_of(resource.get("onsetDateTime")),
                _notes(resource),
            )
        )
    elif kind == "AllergyIntolerance":
        substance = _concept_text(resource.get("code"))
        if not substance:
            reader.problem(
                f"{path}.code", "the allergy needs a substance (code or text)", "required"
            )
            return
        reactions = resource.get("reaction") or [{}]
        reaction = reactions[0]
        severity = (
            _extension_code(resource, ALLERGY_SEVERITY_EXTENSION)
            or reaction.get("severity")
            or CRITICALITY_SEVERITY.get(resource.get("criticality") or "", "unknown")
        )
        manifestation = ", ".join(
            filter(None, (_concept_text(m) for m in reaction.get("manifestation") or []))
        )
        parsed.allergies.append(
            AllergyIn(
                source,
                _subject(resource, "patient"),
                substance[:120],
                manifestation[:200] or None,
                severity if severity in SEVERITIES else "unknown",
                _notes(resource),
            )
        )
    elif kind == "MedicationStatement":
        _medication(reader, parsed, source, resource, path)
    elif kind == "Observation":
        _observation(reader, parsed, source, resource, path)
    elif kind == "MedicationAdministration":
        _administration(reader, parsed, source, resource, path)


def _medication(
    reader: _Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    name = _concept_text(resource.get("medicationCodeableConcept"))
    if not name:
        reader.problem(
            f"{path}.medicationCodeableConcept", "the medication needs a name", "required"
        )
        return
    period = resource.get("effectivePeriod") or {}
    dosage = resource.get("dosage") or [{}]
    category = _code_in(resource.get("category"), codes.MEDICATION_CATEGORY) or "other"
    parsed.medications.append(
        MedicationIn(
            source,
            _subject(resource),
            name[:120],
            (dosage[0].get("text") or None) and str(dosage[0]["text"])[:80],
            category,
            _date_of(period.get("start") or resource.get("effectiveDateTime")),
            _date_of(period.get("end")),
            _notes(resource),
        )
    )


def _observation(
    reader: _Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    code = resource.get("code") or {}
    if _code_in(code, codes.LOINC) == codes.PREGNANCY_STATUS_LOINC:
        value = _code_in(resource.get("valueCodeableConcept"), codes.PREGNANCY_VALUE)
        if value is None:
            snomed = _code_in(resource.get("valueCodeableConcept"), codes.SNOMED)
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
                _subject(resource),
                value,
                _instant(resource.get("effectiveDateTime")),
                _notes(resource),
            )
        )
        return
    kind = _code_in(code, codes.HAIR_METRIC)
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
    measured_at = _instant(resource.get("effectiveDateTime"))
    if measured_at is None:
        reader.problem(f"{path}.effectiveDateTime", "when it was measured is missing", "required")
        return
    body = resource.get("bodySite") or {}
    device_name = (resource.get("device") or {}).get("display") or None
    note, rater, blinded = _rating(_notes(resource))
    parsed.measurements.append(
        MeasurementIn(
            source,
            _subject(resource),
            kind,
            number,
            str(unit),
            measured_at,
            str(device_name)[:120] if device_name else None,
            _code_in(body, codes.SCALP_SITE),
            (body.get("text") or None),
            rater,
            blinded,
            note,
        )
    )


def _status_completed(reader: _Reader, resource: dict[str, Any], path: str) -> bool:
    if resource.get("status") == "completed":
        return True
    reader.problem(
        f"{path}.status",
        f"only a completed session can be imported (this one is {resource.get('status')!r})",
        "value",
    )
    return False


def _procedure(
    reader: _Reader,
    parsed: Parsed,
    source: Source,
    ref_keys: tuple[str, ...],
    resource: dict[str, Any],
    path: str,
) -> None:
    """A session given elsewhere: when, what, where on the scalp, by whom and how it went."""
    if not _validate(reader, resource, path) or not _status_completed(reader, resource, path):
        return
    name = _concept_text(resource.get("code"))
    if not name:
        reader.problem(f"{path}.code", "the procedure needs a code or text", "required")
        return
    performed = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get(
        "start"
    )
    performed_at = _instant(performed)
    if performed_at is None:
        reader.problem(
            f"{path}.performedDateTime", "when the session was given is missing", "required"
        )
        return
    # Codes of this clinic's own CodeSystems must be known ones: an unknown one is refused by
    # its path, never dropped (codes of other systems, e.g. SNOMED's scalp, are not ours to read).
    technique, zones_found = None, []
    for i, concept in enumerate(resource.get("usedCode") or []):
        code = _code_in(concept, codes.TECHNIQUE)
        if code is not None and code not in codes.TECHNIQUE_DISPLAYS:
            known = ", ".join(codes.TECHNIQUE_DISPLAYS)
            reader.problem(
                f"{path}.usedCode[{i}]", f"not a technique ({known}): {code}", "code-invalid"
            )
            return
        technique = technique or code
    for i, concept in enumerate(resource.get("bodySite") or []):
        site = _code_in(concept, codes.SCALP_SITE)
        if site is not None and site not in codes.SITE_TO_ZONE:
            known = ", ".join(codes.SITE_TO_ZONE)
            reader.problem(
                f"{path}.bodySite[{i}]", f"not a treated zone ({known}): {site}", "code-invalid"
            )
            return
        if site is not None:
            zones_found.append(codes.SITE_TO_ZONE[site])
    zones = tuple(dict.fromkeys(zones_found))
    performers = [p.get("actor") or {} for p in resource.get("performer") or []]
    performer = next(
        (
            str(a.get("display") or (a.get("identifier") or {}).get("value") or "").strip()
            for a in performers
            if a.get("display") or (a.get("identifier") or {}).get("value")
        ),
        None,
    )
    complications = tuple(
        text for c in resource.get("complication") or [] if (text := _concept_text(c))
    )
    parsed.procedures.append(
        ProcedureIn(
            source,
            ref_keys,
            _subject(resource),
            performed_at,
            name[:200],
            technique,
            zones,
            performer[:200] if performer else None,
            _concept_text(resource.get("outcome")),
            tuple(c[:200] for c in complications),
            _notes(resource),
        )
    )


def _administration(
    reader: _Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
) -> None:
    """A lot given at an imported session: the product, lot, expiry and dose, as text."""
    if not _status_completed(reader, resource, path):
        return
    refs = [str(p.get("reference") or "") for p in resource.get("partOf") or []]
    refs.append(str((resource.get("context") or {}).get("reference") or ""))
    procedure_ref = next((r for r in refs if r), "")
    medication: dict[str, Any] = {}
    reference = str((resource.get("medicationReference") or {}).get("reference") or "")
    if reference.startswith("#"):
        medication = next(
            (c for c in resource.get("contained") or [] if c.get("id") == reference[1:]), {}
        )
        if not medication:
            reader.problem(
                f"{path}.medicationReference",
                f"{reference} names no contained Medication",
                "invalid",
            )
            return
    product = _concept_text(medication.get("code")) or _concept_text(
        resource.get("medicationCodeableConcept")
    )
    if not product:
        reader.problem(
            f"{path}.medicationCodeableConcept",
            "what was given is missing (a contained Medication's code, or text)",
            "required",
        )
        return
    batch = medication.get("batch") or {}
    dose = (resource.get("dosage") or {}).get("dose") or {}
    dose_text = None
    if dose.get("value") is not None:
        dose_text = f"{dose['value']:g} {dose.get('unit') or dose.get('code') or ''}".strip()
    parsed.administrations.append(
        AdministrationIn(
            source,
            _subject(resource),
            procedure_ref,
            product[:200],
            (str(batch["lotNumber"]).strip()[:80] or None) if batch.get("lotNumber") else None,
            _date_of(batch.get("expirationDate")),
            dose_text[:80] if dose_text else None,
        )
    )


def _check_administrations(
    reader: _Reader, parsed: Parsed, patients_by_ref: dict[str, PatientIn]
) -> None:
    """Each administration belongs to a Procedure of the bundle, about the same patient."""
    procedures = {key: p for p in parsed.procedures for key in p.ref_keys}
    for item in parsed.administrations:
        procedure = procedures.get(item.procedure_ref)
        if procedure is None:
            reader.problem(
                f"{item.source.path}.partOf",
                "must refer to a Procedure entry of this bundle (the session the lot was "
                f"given at, by its fullUrl or Procedure/<id>); found {item.procedure_ref!r}",
                "invalid",
            )
            continue
        mine, theirs = (
            patients_by_ref.get(item.patient_ref),
            patients_by_ref.get(procedure.patient_ref),
        )
        if mine is not None and theirs is not None and mine is not theirs:
            reader.problem(
                f"{item.source.path}.subject",
                "the administration and its Procedure are about different patients",
                "invalid",
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
