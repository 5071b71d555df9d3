"""Reading a referral's sessions given elsewhere: a Procedure and its MedicationAdministrations.

Pure: each becomes a `ProcedureIn` or `AdministrationIn` (kept as a visit recorded elsewhere),
or problems named by FHIRPath; `check_administrations` ties each lot to a session of the bundle.
"""

from __future__ import annotations

from typing import Any

from mesoclinic.fhir import codes
from mesoclinic.fhir.importer_read import (
    Reader,
    code_in,
    concept_text,
    date_of,
    instant_of,
    notes_of,
    subject_of,
    validate,
)
from mesoclinic.fhir.importer_records import (
    AdministrationIn,
    Parsed,
    PatientIn,
    ProcedureIn,
    Source,
)


def _status_completed(reader: Reader, resource: dict[str, Any], path: str) -> bool:
    if resource.get("status") == "completed":
        return True
    reader.problem(
        f"{path}.status",
        f"only a completed session can be imported (this one is {resource.get('status')!r})",
        "value",
    )
    return False


def read_procedure(
    reader: Reader,
    parsed: Parsed,
    source: Source,
    ref_keys: tuple[str, ...],
    resource: dict[str, Any],
    path: str,
) -> None:
    """A session given elsewhere: when, what, where on the scalp, by whom and how it went."""
    if not validate(reader, resource, path) or not _status_completed(reader, resource, path):
        return
    name = concept_text(resource.get("code"))
    if not name:
        reader.problem(f"{path}.code", "the procedure needs a code or text", "required")
        return
    performed = resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get(
        "start"
    )
    performed_at = instant_of(performed)
    if performed_at is None:
        reader.problem(
            f"{path}.performedDateTime", "when the session was given is missing", "required"
        )
        return
    # Codes of this clinic's own CodeSystems must be known ones: an unknown one is refused by
    # its path, never dropped (codes of other systems, e.g. SNOMED's scalp, are not ours to read).
    technique, zones_found = None, []
    for i, concept in enumerate(resource.get("usedCode") or []):
        code = code_in(concept, codes.TECHNIQUE)
        if code is not None and code not in codes.TECHNIQUE_DISPLAYS:
            known = ", ".join(codes.TECHNIQUE_DISPLAYS)
            reader.problem(
                f"{path}.usedCode[{i}]", f"not a technique ({known}): {code}", "code-invalid"
            )
            return
        technique = technique or code
    for i, concept in enumerate(resource.get("bodySite") or []):
        site = code_in(concept, codes.SCALP_SITE)
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
        text for c in resource.get("complication") or [] if (text := concept_text(c))
    )
    parsed.procedures.append(
        ProcedureIn(
            source,
            ref_keys,
            subject_of(resource),
            performed_at,
            name[:200],
            technique,
            zones,
            performer[:200] if performer else None,
            concept_text(resource.get("outcome")),
            tuple(c[:200] for c in complications),
            notes_of(resource),
        )
    )


def read_administration(
    reader: Reader, parsed: Parsed, source: Source, resource: dict[str, Any], path: str
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
    product = concept_text(medication.get("code")) or concept_text(
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
            subject_of(resource),
            procedure_ref,
            product[:200],
            (str(batch["lotNumber"]).strip()[:80] or None) if batch.get("lotNumber") else None,
            date_of(batch.get("expirationDate")),
            dose_text[:80] if dose_text else None,
        )
    )


def check_administrations(
    reader: Reader, parsed: Parsed, patients_by_ref: dict[str, PatientIn]
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
