"""`POST /fhir` with sessions given elsewhere: a Procedure and its MedicationAdministrations
become one visit recorded elsewhere (imported), never a visit of this clinic: no stock drawn, no
safety checks; the same bundle twice stores it once; a bad element is named, nothing stored."""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fhir_records import GIVEN, post_bundle, row_counts, visit_referral
from mesoclinic.formulary.models import StockMovement
from mesoclinic.patients.models import Patient
from mesoclinic.visits import service as visit_service
from mesoclinic.visits.models import ExternalVisit, Visit
from support import audit_entries


def _counts(world: Any) -> dict[str, int]:
    return row_counts(world, Patient, ExternalVisit, Visit, StockMovement)


def test_a_session_given_elsewhere_is_stored_once_as_an_imported_visit(world):
    before = _counts(world)
    clinician = world.client("clinician")
    r = post_bundle(clinician, visit_referral())
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created"] * 4
    visit_location = entries[1]["response"]["location"]
    assert visit_location.startswith("Procedure/")
    after = _counts(world)
    # One imported visit; no visit of this clinic and no stock movement.
    assert {k: after[k] - before[k] for k in after} == {
        "Patient": 1,
        "ExternalVisit": 1,
        "Visit": 0,
        "StockMovement": 0,
    }
    with world.db.factory() as s:
        row = s.execute(select(ExternalVisit)).scalar_one()
        assert str(row.id) == visit_location.removeprefix("Procedure/")
        assert row.clinic_id == world.clinic_a.id and row.source == "fhir-import"
        assert row.performed_at == GIVEN and row.technique == "nappage"
        assert sorted(row.zones) == ["frontal", "vertex"]
        assert row.performer == "Dr. Lena Brandt" and row.complications == ["redness"]
        assert row.administrations == [
            {"product": "Dermaheal HL", "lot_number": "DH-2291", "expires_on": "2027-05-31",
             "dose": "2 mL"},
            {"product": "Dermaheal HL", "lot_number": "DH-2304", "expires_on": "2027-05-31",
             "dose": "1.5 mL"},
        ]  # fmt: skip

    again = post_bundle(clinician, visit_referral())
    assert again.status_code == 200, again.text
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 4
    assert again.json()["entry"][1]["response"]["location"] == visit_location
    assert _counts(world) == after
    created = audit_entries(world.db, action="create", entity_type="external_visit")
    assert len(created) == 1 and created[0].clinic_id == world.clinic_a.id

    changed = visit_referral()
    changed["entry"][3]["resource"]["dosage"]["dose"]["value"] = 1.0
    r = post_bundle(clinician, changed)
    assert r.status_code == 200, r.text
    assert r.json()["entry"][1]["response"]["status"] == "200 OK"
    assert _counts(world) == after
    with world.db.factory() as s:
        assert s.execute(select(ExternalVisit)).scalar_one().administrations[1]["dose"] == "1 mL"
    assert audit_entries(world.db, action="update", entity_type="external_visit")


def test_an_imported_session_counts_for_the_least_interval(world):
    assert post_bundle(world.client("clinician"), visit_referral()).status_code == 200
    with world.db.factory() as s:
        patient = s.execute(select(Patient).where(Patient.family_name == "Okafor")).scalar_one()
        zone = ZoneInfo("Europe/London")
        days = visit_service._other_visit_days(s, patient.id, zone)
    assert days == (GIVEN.astimezone(zone).date(),)


def test_the_visits_tab_shows_sessions_recorded_elsewhere(world):
    assert post_bundle(world.client("clinician"), visit_referral()).status_code == 200
    with world.db.factory() as s:
        patient = s.execute(select(Patient).where(Patient.family_name == "Okafor")).scalar_one()
    page = world.web("nurse").get(f"/patients/{patient.id}/visits")
    assert page.status_code == 200
    assert "Sessions recorded elsewhere (imported)" in page.text
    assert "recorded&nbsp;elsewhere&nbsp;(imported)</span>" in page.text
    assert "DH-2291" in page.text and "Dr. Lena Brandt" in page.text
    reads = audit_entries(world.db, action="read", entity_type="external_visit")
    assert reads and reads[-1].patient_id == patient.id


def _refused(world: Any, bundle: dict[str, Any], status: int = 422) -> list[str]:
    before = _counts(world)
    r = post_bundle(world.client("clinician"), bundle)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome"
    assert _counts(world) == before  # nothing stored, not even the patient
    return [e for issue in body["issue"] for e in issue["expression"]]


def test_bad_sessions_are_named_by_fhirpath_and_nothing_is_stored(world):
    orphan = visit_referral()
    orphan["entry"][2]["resource"]["partOf"] = [{"reference": "Procedure/unknown"}]
    assert _refused(world, orphan) == ["Bundle.entry[2].resource.partOf"]

    undated = visit_referral()
    del undated["entry"][1]["resource"]["performedDateTime"]
    assert "Bundle.entry[1].resource.performedDateTime" in _refused(world, undated)

    not_done = visit_referral()
    not_done["entry"][1]["resource"]["status"] = "not-done"
    assert "Bundle.entry[1].resource.status" in _refused(world, not_done)

    future = visit_referral()
    future["entry"][1]["resource"]["performedDateTime"] = "2099-01-01T10:00:00Z"
    assert _refused(world, future) == ["Bundle.entry[1].resource.performedDateTime"]

    no_product = visit_referral()
    del no_product["entry"][3]["resource"]["contained"][0]["code"]
    assert _refused(world, no_product) == ["Bundle.entry[3].resource.medicationCodeableConcept"]

    bad_type = copy.deepcopy(visit_referral())
    bad_type["entry"][3]["resource"]["dosage"]["dose"]["value"] = "lots"
    assert _refused(world, bad_type)[0].startswith("Bundle.entry[3].resource.dosage")

    # a code of the clinic's own CodeSystems that it does not know is refused, never dropped
    unknown_zone = visit_referral()
    unknown_zone["entry"][1]["resource"]["bodySite"][1]["coding"][0]["code"] = "mid_scalp"
    assert "Bundle.entry[1].resource.bodySite[1]" in _refused(world, unknown_zone)
    unknown_technique = visit_referral()
    unknown_technique["entry"][1]["resource"]["usedCode"][0]["coding"][0]["code"] = "laser"
    assert "Bundle.entry[1].resource.usedCode[0]" in _refused(world, unknown_technique)


def test_reception_may_not_import_a_session(world):
    before = _counts(world)
    r = post_bundle(world.client("reception"), visit_referral())
    assert r.status_code == 403, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert _counts(world) == before
