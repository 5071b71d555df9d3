"""Every API create takes an `Idempotency-Key` (issue 16, item 6): generated from the app's route
table, so a new create without it fails here. For each: the same key and body replays the first
answer and stores nothing more; the same key with another body is a 422 naming the header."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from drills.drill_world import ids, routes
from image_support import give_photo_consent, image_bytes
from mesoclinic.db import Base, unit_of_work
from mesoclinic.formulary.models import CocktailLine, Lot
from mesoclinic.outcomes import jobs, jobs_worker
from mesoclinic.outcomes.models import AnalysisKind
from mesoclinic.security.deps import idempotency_request
from outcomes.image_factory import MLP, make_site, synthetic_image
from outcomes.measure_data import measured_course
from plans.plan_support import at, next_weekday

# POSTs answering 201/202 that are not a record of the caller's making: signing in (no user
# yet to own a key) and the FHIR import, which matches each resource by its identifiers so the
# same bundle twice adds nothing (tests/fhir/test_import_bundle.py::
# test_a_referral_is_stored_once_and_matched_the_second_time).
NOT_KEYED = {"/api/v1/auth/token", "/fhir"}
# Rows a replay may add: its audit of the request, sessions, and the key table itself.
UNCOUNTED = {
    "audit_log",
    "audit_head",
    "audit_checkpoints",
    "idempotency_keys",
    "auth_tokens",
    "login_throttle",
}

Request = dict[str, Any]  # persona, json/files/data: what to send
Case = Callable[[Any, dict[str, str]], tuple[str, Request, Request]]


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def _consented(world: Any, patient: Any) -> None:
    body = {"procedure": "mesotherapy", "signed_by": "P", "signed_at": _ago(days=1)}
    r = world.client("clinician").post(f"/api/v1/patients/{patient.id}/consents", json=body)
    assert r.status_code == 201, r.text


def _visit(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    _consented(world, world.other_patient_a)
    body = {
        "patient_id": str(world.other_patient_a.id),
        "performed_at": _ago(minutes=5),
        "cocktail_id": v["cocktail_id"],
        "lots": [{"lot_id": v["lot_id"], "volume_ml": 2}],
        "technique": "point_by_point",
        "zones": ["vertex"],
        "depth_mm": 1.5,
        "points": 40,
        "volume_per_point_ml": 0.05,
        "total_volume_ml": 2,
        "needle_gauge": 30,
        "needle_length_mm": 4,
        "pain_score": 3,
        "adverse_events": [{"type": "none"}],
    }
    return "clinician", {"json": body}, {"json": {**body, "pain_score": 4}}


def _product_id(world: Any, v: dict[str, str]) -> str:
    with world.db.factory() as s:
        lot = s.get(Lot, uuid.UUID(v["lot_id"]))
        assert lot is not None
        return str(lot.product_id)


def _ingredient_id(world: Any, v: dict[str, str]) -> str:
    with world.db.factory() as s:
        stmt = select(CocktailLine.ingredient_id).where(
            CocktailLine.cocktail_id == uuid.UUID(v["cocktail_id"])
        )
        return str(s.execute(stmt).scalars().first())


def _lot(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    body = {
        "product_id": _product_id(world, v),
        "batch_number": "IDEM-1",
        "expires_on": (datetime.now(UTC) + timedelta(days=200)).date().isoformat(),
        "quantity_ml": 25,
    }
    return "clinician", {"json": body}, {"json": {**body, "quantity_ml": 30}}


def _images(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    def upload(colour: Any) -> Request:
        return {
            "data": {"kind": "trichoscopy"},
            "files": [("file", ("scalp.jpg", image_bytes(colour=colour), "image/jpeg"))],
        }

    return "clinician", upload((200, 150, 100)), upload((90, 150, 200))


def _pair(world: Any, v: dict[str, str], *, clipped: bool, days: float) -> tuple[str, str]:
    site = make_site(world.db.factory, world.patient_a.id, clipped=clipped)
    made = [
        synthetic_image(
            world.db.factory,
            world.app.state.settings.images_dir,
            world.patient_a,
            site_id=site,
            days=d,
            seed=i + 1,
            size=(320, 256),
        )
        for i, d in enumerate((0.0, days))
    ]
    return str(made[0]), str(made[1])


def _growth_pair(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    first, second = _pair(world, v, clipped=True, days=3)
    v["image_id"] = first
    return "clinician", {"json": {"second_image_id": second}}, {"json": {"second_image_id": first}}


def _follow_up(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    first, second = _pair(world, v, clipped=False, days=120)
    v["image_id"] = first
    return "clinician", {"json": {"second_image_id": second}}, {"json": {"second_image_id": first}}


def _review(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    site = make_site(world.db.factory, world.patient_a.id)
    image = synthetic_image(
        world.db.factory, world.app.state.settings.images_dir, world.patient_a, site_id=site
    )
    with unit_of_work(world.db.factory) as s:
        jobs.enqueue(
            s, kind=AnalysisKind.COUNT, image_id=image, algorithm_version=MLP, requested_by="t"
        )
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)
    v["image_id"] = str(image)
    return "clinician", {"json": {"removed": [0]}}, {"json": {"removed": [1]}}


def _reanalyse(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    versions = sorted(jobs.known_versions())
    other = versions[1] if len(versions) > 1 else versions[0] + "-other"
    return (
        "clinician",
        {"json": {"algorithm_version": versions[0]}},
        {"json": {"algorithm_version": other}},
    )


def _override(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    patient = world.other_patient_a
    norwood_vi = {
        "diagnosis": "androgenetic_alopecia",
        "staging": {"scale": "norwood_hamilton", "grade": "VI"},
    }
    made = world.client("clinician").post(
        f"/api/v1/patients/{patient.id}/assessments", json=norwood_vi
    )
    assert made.status_code == 201, made.text
    v["patient_id"], v["assessment_id"] = str(patient.id), made.json()["id"]
    body = {"rule_id": "candidacy.advanced_male_pattern", "reason": "Understands the limits."}
    return "clinician", {"json": body}, {"json": {**body, "reason": "Another written reason."}}


def _plan_review(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")  # a non-responder
    body = {"reason": "Slow responder: continue unchanged."}
    return "clinician", {"json": body}, {"json": {"reason": "Another written reason."}}


def _json(persona: str, body: dict[str, Any], **other: Any) -> Case:
    def case(world: Any, v: dict[str, str]) -> tuple[str, Request, Request]:
        filled = {k: (x(world, v) if callable(x) else x) for k, x in body.items()}
        return persona, {"json": filled}, {"json": {**filled, **other}}

    return case


def _pid(world: Any, v: dict[str, str]) -> str:
    return str(world.patient_a.id)


DAY = next_weekday(4, 3)
CASES: dict[str, Case] = {
    "/api/v1/patients": _json(
        "reception",
        {"given_name": "Ida", "family_name": "Keyed", "birth_date": "1990-01-02", "sex": "female"},
        given_name="Eve",
    ),
    "/api/v1/patients/{patient_id}/allergies": _json(
        "clinician", {"substance": "nickel"}, substance="iodine"
    ),
    "/api/v1/patients/{patient_id}/medications": _json(
        "clinician", {"name": "Finasteride"}, name="Dutasteride"
    ),
    "/api/v1/patients/{patient_id}/conditions": _json(
        "clinician", {"name": "Psoriasis"}, name="Eczema"
    ),
    "/api/v1/patients/{patient_id}/pregnancy-statuses": _json(
        "clinician", {"value": "not_pregnant"}, value="unknown"
    ),
    "/api/v1/patients/{patient_id}/consents": _json(
        "clinician",
        {"procedure": "prp", "signed_by": "Ana", "signed_at": lambda w, v: _ago(hours=2)},
        signed_by="Bea",
    ),
    "/api/v1/patients/{patient_id}/assessments": _json(
        "clinician", {"diagnosis": "telogen_effluvium"}, diagnosis="alopecia_areata"
    ),
    "/api/v1/patients/{patient_id}/assessments/{assessment_id}/overrides": _override,
    "/api/v1/patients/{patient_id}/plans": _json(
        "clinician",
        {"protocol_code": "minoxidil", "start_date": "2030-01-07", "activate": False},
        start_date="2030-01-14",
    ),
    "/api/v1/visits": _visit,
    "/api/v1/patients/{patient_id}/sites": _json(
        "clinician", {"location": "vertex", "label": "Keyed"}, label="Other"
    ),
    "/api/v1/patients/{patient_id}/measurements": _json(
        "clinician",
        {
            "kind": "density_total",
            "value": 150.0,
            "unit": "/cm2",
            "measured_at": lambda w, v: _ago(hours=3),
            "site_id": lambda w, v: v["site_id"],
        },
        value=151.0,
    ),
    "/api/v1/measurements/{measurement_id}/correct": _json(
        "clinician", {"value": 142.0, "reason": "Recounted the grid"}, value=143.0
    ),
    "/api/v1/patients/{patient_id}/images": _images,
    "/api/v1/patients/{patient_id}/photo-consents": _json(
        "clinician", {"signed_by": "Ana", "signed_at": lambda w, v: _ago(hours=1)}, teaching=True
    ),
    "/api/v1/images/{image_id}/review": _review,
    "/api/v1/images/{image_id}/reanalyse": _reanalyse,
    "/api/v1/images/{image_id}/growth-pair": _growth_pair,
    "/api/v1/images/{image_id}/follow-up": _follow_up,
    "/api/v1/patients/{patient_id}/declared-events": _json(
        "patient",
        {"kind": "sauna", "starts_on": DAY.isoformat(), "ends_on": DAY.isoformat()},
        kind="beach_holiday",
    ),
    "/api/v1/formulary/ingredients": _json(
        "clinician", {"name": "keyed biotin", "category": "vitamin"}, name="keyed zinc"
    ),
    "/api/v1/formulary/cocktails": _json(
        "clinician",
        {
            "name": "Keyed cocktail",
            "total_volume_ml": 5,
            "lines": lambda w, v: [
                {"ingredient_id": _ingredient_id(w, v), "concentration": 1, "unit": "mg/mL"}
            ],
        },
        name="Other cocktail",
    ),
    "/api/v1/formulary/products": _json(
        "clinician",
        {
            "name": "Keyed 5 mL",
            "manufacturer": "Acme",
            "presentation": "5 x 5 mL",
            "cocktail_id": lambda w, v: v["cocktail_id"],
        },
        name="Other 5 mL",
    ),
    "/api/v1/lots": _lot,
    "/api/v1/lots/{lot_id}/waste": _json(
        "nurse", {"quantity_ml": 1, "reason": "Dropped vial"}, quantity_ml=2
    ),
    "/api/v1/lots/{lot_id}/adjust": _json(
        "nurse", {"quantity_ml": -1, "reason": "Stock count"}, quantity_ml=-2
    ),
    "/api/v1/appointments": _json(
        "reception",
        {
            "patient_id": _pid,
            "practitioner_id": lambda w, v: str(w.users["clinician"].id),
            "room": "Room 2",
            "starts_at": at(next_weekday(2), 15),
            "duration_minutes": 30,
        },
        room="Room 3",
    ),
    "/api/v1/plans/{plan_id}/sessions/{sequence}/book": _json(
        "reception",
        {
            "practitioner_id": lambda w, v: str(w.users["clinician"].id),
            "room": "Room 2",
            "starts_at": at(next_weekday(1), 15),
        },
        room="Room 3",
    ),
    "/api/v1/clinic-calendar/closures": _json(
        "clinician",
        {"closed_on": next_weekday(5, 5).isoformat(), "reason": "Keyed closure"},
        reason="Other closure",
    ),
    "/api/v1/patients/{patient_id}/plan-reviews": _plan_review,
    "/api/v1/analytics/cohorts": _json("clinician", {"name": "Keyed cohort"}, name="Other"),
    "/api/v1/users": _json(
        "clinic_admin",
        {
            "username": "keyed.nurse",
            "role": "nurse",
            "password": "Plenty-long-pass-4821",
            "clinic_id": lambda w, v: str(w.clinic_a.id),
        },
        username="other.nurse",
    ),
}


def _keyed(route: APIRoute) -> bool:
    def walk(dependant: Any) -> Any:
        for dep in dependant.dependencies:
            yield dep.call
            yield from walk(dep)

    return idempotency_request in set(walk(route.dependant))


def test_every_api_create_takes_an_idempotency_key_and_is_tested_here(app):
    creates = {
        r.path
        for r in routes(app)
        if "POST" in r.methods and r.status_code in (201, 202) and r.path not in NOT_KEYED
    }
    keyed = {r.path for r in routes(app) if _keyed(r)}
    assert creates - keyed == set(), "API creates without an Idempotency-Key"
    assert keyed == set(CASES), "keyed routes and the cases of this test differ"
    spec = app.openapi()
    for path in keyed:
        params = spec["paths"][path]["post"].get("parameters", [])
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params), path


def _row_counts(world: Any) -> dict[str, int]:
    with world.db.factory() as s:
        return {
            t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
            if t.name not in UNCOUNTED
        }


def _url(path: str, values: dict[str, str]) -> str:
    fixed = {"sequence": "1"}
    for name, value in {**fixed, **values}.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


@pytest.mark.parametrize("path", sorted(CASES))
def test_a_create_sent_twice_with_one_key_is_done_once(world, path):
    values = ids(world)
    persona, first_request, other_request = CASES[path](world, values)
    if "images" in path and "photo-consents" not in path:
        give_photo_consent(world.db, world.patient_a.id)
    url = _url(path, values)
    client = world.client(persona)
    headers = {"Idempotency-Key": f"drill-{path}"}
    first = client.post(url, headers=headers, **first_request)
    assert first.status_code in (200, 201, 202), (url, first.text)
    before = _row_counts(world)
    again = client.post(url, headers=headers, **first_request)
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers.get("location") == first.headers.get("location")
    assert _row_counts(world) == before, "a replay stored something"
    other = client.post(url, headers=headers, **other_request)
    assert other.status_code == 422, other.text
    error = other.json()["error"]
    assert error["field"] == "Idempotency-Key"
    assert "different request" in error["message"]
    assert _row_counts(world) == before
    fresh = client.post(url, headers={"Idempotency-Key": f"other-{path}"}, **other_request)
    assert fresh.status_code < 500, fresh.text  # a new key is a new request (may be refused)
