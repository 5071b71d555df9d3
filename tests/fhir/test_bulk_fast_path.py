"""The bulk export's fast path (fhir.resources validation sampled, docs/fhir.md "Speed and
memory") writes exactly what the fully validated path writes, for every demo patient."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from mesoclinic.fhir import build, bulk_export
from mesoclinic.fhir.build import InvalidResource, sampled_validation
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.security.models import Clinic


class Lines:
    """A writer that keeps the NDJSON lines the export would append."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, resource: dict[str, Any]) -> None:
        self.lines.append(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))


def _export(session: Any, every: int | None) -> tuple[list[str], int]:
    names = {c.id: c.name for c in session.query(Clinic)}
    writer, checked = Lines(), -1
    for patients in bulk_export.patient_pages(session, None, 7):
        page = bulk_export.Page(patients, None, names, load_kinds())
        if every is None:
            bulk_export.write_page(session, page, bulk_export.SUPPORTED_TYPES, writer)  # type: ignore[arg-type]
        else:
            with sampled_validation(every) as sample:
                bulk_export.write_page(session, page, bulk_export.SUPPORTED_TYPES, writer)  # type: ignore[arg-type]
            checked = sample.checked
    return writer.lines, checked


def test_fast_path_writes_byte_for_byte_what_the_validated_path_writes(db, demo):
    with db.factory() as s:
        validated_lines, _ = _export(s, None)
        fast_lines, checked = _export(s, 10**9)
        sampled_lines, _ = _export(s, bulk_export.VALIDATE_EVERY)
    assert len(validated_lines) > 500
    assert fast_lines == validated_lines
    assert sampled_lines == validated_lines
    # The fast run still checked the first resource of each type of its last page.
    assert 0 < checked <= len(bulk_export.SUPPORTED_TYPES)
    # And every line the validated path wrote is a valid R4B resource.
    for line in validated_lines:
        resource = json.loads(line)
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_a_sampled_resource_is_still_refused_when_invalid():
    bad = {"resourceType": "Patient", "birthDate": "not a date"}
    with sampled_validation(3) as sample:
        with pytest.raises(InvalidResource) as refused:
            build.validated(bad)  # the first of its type is always checked
        assert refused.value.path == "Patient.birthDate"
        assert build.validated(bad) is bad  # the 2nd and 3rd are not
        assert build.validated(bad) is bad
        with pytest.raises(InvalidResource):
            build.validated(bad)  # the 4th is
    assert sample.checked == 2
    with pytest.raises(InvalidResource):
        build.validated(bad)  # outside the block every resource is checked
