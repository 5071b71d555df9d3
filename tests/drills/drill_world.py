"""One object of each kind in clinic A, for patient A1, made through the API where it is cheap.

The drills fill every route's path ids from `ids(world)`; a kind the world lacks gets an
unknown UUID (still checked for 5xx and leaks, but not for "allowed personas are answered").
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.routing import APIRoute

from image_support import give_photo_consent, image_bytes, upload
from plans.plan_support import at, next_weekday
from stock_support import stock_clinic, visit_body

# Personas of the drills: who they are and whether clinic A patient A1's data is theirs to see.
INSIDERS = ("admin", "clinic_admin", "clinician", "nurse", "reception", "patient")
OUTSIDERS = (
    "clinician_b",
    "nurse_b",
    "reception_b",
    "clinic_admin_b",
    "patient_a2",
    "patient_b",
)
PERSONAS = INSIDERS + OUTSIDERS
# Path ids of things shared by the group (the formulary) or owned by the caller.
NOT_SCOPED = frozenset({"cocktail_id", "token_id", "kind", "sequence", "action"})
FIXED = {"kind": "allergies", "sequence": "1", "action": "complete"}


def _flatten(routes: list[Any]) -> Any:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's lazily included router
            yield from _flatten(route.original_router.routes)


def routes(app: Any) -> list[APIRoute]:
    return list(_flatten(app.routes))


def path_params(route: APIRoute) -> list[str]:
    out, path = [], route.path
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        out.append(path[start + 1 : end].split(":")[0])
        path = path[end + 1 :]
    return out


def fill(route: APIRoute, values: dict[str, str], **override: str) -> str:
    path = route.path
    for name in path_params(route):
        value = override.get(name) or values.get(name) or FIXED.get(name) or str(uuid.uuid4())
        path = path.replace("{" + name + "}", value, 1).replace("{" + name + ":path}", value, 1)
    return path


def _stock(world: Any) -> dict[str, str]:
    """The stocked world of the visit tests (tests/stock_support.py); consents are made below
    through the API."""
    made = stock_clinic(world, consented=())
    return {"cocktail_id": str(made.vitamin_cocktail.id), "lot_id": str(made.vitamin_lot.id)}


def _created(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    body = response.json()
    return str((body[0] if isinstance(body, list) else body)["id"])


def ids(world: Any) -> dict[str, str]:
    """Make the objects and return path-parameter name -> id (all of patient A1, clinic A)."""
    pid = str(world.patient_a.id)
    out = {"patient_id": pid, "user_id": str(world.users["nurse"].id)}
    out |= _stock(world)
    clinician = world.client("clinician")
    for procedure in ("mesotherapy", "prp"):
        signed_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        consent = {"procedure": procedure, "signed_by": "Ana Silva", "signed_at": signed_at}
        out["consent_id"] = _created(
            clinician.post(f"/api/v1/patients/{pid}/consents", json=consent)
        )
    assessment = {
        "diagnosis": "female_pattern_hair_loss",
        "staging": {"scale": "ludwig", "grade": "I"},
    }
    out["assessment_id"] = _created(
        clinician.post(f"/api/v1/patients/{pid}/assessments", json=assessment)
    )
    plan = clinician.post(
        f"/api/v1/patients/{pid}/plans",
        json={"protocol_code": "minoxidil", "start_date": next_weekday(1).isoformat()},
    )
    out["plan_id"] = _created(plan)
    out["appointment_id"] = _created(
        world.client("reception").post(
            "/api/v1/appointments",
            json={
                "patient_id": pid,
                "practitioner_id": str(world.users["clinician"].id),
                "room": "Room 1",
                "starts_at": at(next_weekday(2), 10),
                "duration_minutes": 30,
            },
        )
    )
    out["visit_id"] = _created(
        clinician.post(
            "/api/v1/visits",
            json=visit_body(pid, out["cocktail_id"], out["lot_id"], zones=["vertex"]),
        )
    )
    out["item_id"] = _created(
        clinician.post(f"/api/v1/patients/{pid}/allergies", json={"substance": "latex"})
    )
    out["site_id"] = _created(
        clinician.post(f"/api/v1/patients/{pid}/sites", json={"location": "vertex"})
    )
    out["measurement_id"] = _created(
        clinician.post(
            f"/api/v1/patients/{pid}/measurements",
            json={
                "kind": "density_total",
                "value": 140.0,
                "unit": "/cm2",
                "site_id": out["site_id"],
                "measured_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            },
        )
    )
    give_photo_consent(world.db, world.patient_a.id)
    out["image_id"] = _created(upload(clinician, pid, image_bytes()))
    starts = next_weekday(3)
    out["event_id"] = _created(
        world.client("patient").post(
            f"/api/v1/patients/{pid}/declared-events",
            json={
                "kind": "sauna",
                "starts_on": starts.isoformat(),
                "ends_on": starts.isoformat(),
            },
        )
    )
    closure = clinician.post(
        "/api/v1/clinic-calendar/closures",
        json={"closed_on": next_weekday(4, 6).isoformat(), "reason": "Drill closure"},
    )
    out["closure_id"] = _created(closure)
    return out


def markers(world: Any, persona: str) -> list[str]:
    """Text that must never reach `persona`: patient A1's identity (and, for clinic B, every
    clinic A patient's). Names as lists and headings write them, not the bare family name,
    which the search box's placeholder uses as an example."""
    people = [world.patient_a] + ([] if persona == "patient_a2" else [world.other_patient_a])
    found = []
    for p in people:
        found += [p.email, f"{p.family_name}, {p.given_name}", f"{p.given_name} {p.family_name}"]
    return found
