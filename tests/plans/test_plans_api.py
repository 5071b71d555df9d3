"""Treatment plans over the API: create from a protocol, gate, lifecycle, reschedule, scope."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mesoclinic.plans.models import TreatmentPlan
from plans.plan_support import make_treatable, next_weekday
from support import audit_entries


def create(world: Any, persona: str = "clinician", patient: Any = None, **body: Any) -> Any:
    patient = patient or world.patient_a
    payload = {
        "protocol_code": "standard-vitamin",
        "start_date": next_weekday(0).isoformat(),
        **body,
    }
    return world.client(persona).post(f"/api/v1/patients/{patient.id}/plans", json=payload)


def plan_count(world: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(TreatmentPlan)).scalar_one()


def test_protocols_are_listed_with_phases_and_sources(world: Any, anon: Any) -> None:
    r = world.client("reception").get("/api/v1/protocols")
    assert r.status_code == 200
    by_code = {p["code"]: p for p in r.json()}
    assert set(by_code) == {
        "standard-vitamin",
        "intensive-induction",
        "dutasteride",
        "minoxidil",
        "meso-prp",
    }
    assert by_code["dutasteride"]["phases"][0]["week_offsets"] == [0, 1, 2, 3, 5, 7, 11]
    assert by_code["meso-prp"]["includes_prp"] is True
    assert all(p["source"] for p in r.json())
    assert anon.get("/api/v1/protocols").status_code == 401


@pytest.mark.parametrize("persona", ["clinician", "nurse", "admin"])
def test_plan_writers_create_an_active_plan_with_dated_sessions(
    treatable: Any, persona: str
) -> None:
    r = create(treatable, persona)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "active"
    assert len(plan["sessions"]) == 12
    first, second = plan["sessions"][:2]
    assert first["planned_date"] == next_weekday(0).isoformat()
    assert (
        date.fromisoformat(second["planned_date"]) - date.fromisoformat(first["planned_date"])
    ).days >= second["min_gap_days"]
    assert audit_entries(treatable.db, action="create", entity_type="treatment_plan")


@pytest.mark.parametrize(
    "persona,status", [("reception", 403), ("patient", 403), ("clinician_b", 404)]
)
def test_plan_creation_is_refused_to_other_roles_and_clinics(
    treatable: Any, persona: str, status: int
) -> None:
    assert create(treatable, persona).status_code == status
    assert plan_count(treatable) == 0


def test_plan_creation_needs_credentials(world: Any, anon: Any) -> None:
    r = anon.post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "minoxidil", "start_date": "2030-01-07"},
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    "body,field",
    [
        ({"protocol_code": "unknown"}, "protocol_code"),
        ({"start_date": "not a date"}, "start_date"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_plan_input_is_refused_naming_the_field(
    treatable: Any, body: dict[str, Any], field: str
) -> None:
    r = create(treatable, **body)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == field
    assert plan_count(treatable) == 0


def test_gate_refuses_a_plan_without_consent_or_assessment_and_stores_nothing(world: Any) -> None:
    r = create(world)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "treatment_gate"
    assert {c["rule_id"] for c in error["checks"]} >= {"consent.missing", "assessment.missing"}
    assert all(c["reason"] and c["source"] for c in error["checks"])
    assert plan_count(world) == 0


def test_a_draft_plan_skips_the_gate_until_it_is_activated(world: Any) -> None:
    r = create(world, activate=False)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    plan_id = r.json()["id"]
    refused = world.client("clinician").post(f"/api/v1/plans/{plan_id}/activate")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "treatment_gate"
    make_treatable(world, world.patient_a)
    activated = world.client("clinician").post(f"/api/v1/plans/{plan_id}/activate")
    assert activated.status_code == 200 and activated.json()["status"] == "active"


def test_prp_protocol_needs_prp_consent(world: Any) -> None:
    make_treatable(world, world.patient_a, procedures=("mesotherapy",))
    r = create(world, protocol_code="meso-prp")
    assert r.status_code == 422
    assert [c["rule_id"] for c in r.json()["error"]["checks"]] == ["consent.missing"]
    assert create(world, protocol_code="minoxidil").status_code == 201


def test_plan_lifecycle_pause_resume_complete(treatable: Any) -> None:
    client = treatable.client("nurse")
    plan_id = create(treatable).json()["id"]
    assert (
        client.post(f"/api/v1/plans/{plan_id}/pause", json={"reason": "holiday abroad"}).json()[
            "status"
        ]
        == "paused"
    )
    assert client.post(f"/api/v1/plans/{plan_id}/pause").status_code == 409
    assert client.post(f"/api/v1/plans/{plan_id}/resume").json()["status"] == "active"
    done = client.post(f"/api/v1/plans/{plan_id}/complete").json()
    assert done["status"] == "completed" and done["ended_at"]
    assert {s["status"] for s in done["sessions"]} == {"cancelled"}
    again = client.post(f"/api/v1/plans/{plan_id}/resume")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_stopping_needs_a_reason(treatable: Any) -> None:
    client = treatable.client("clinician")
    plan_id = create(treatable).json()["id"]
    r = client.post(f"/api/v1/plans/{plan_id}/stop", json={})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    stopped = client.post(
        f"/api/v1/plans/{plan_id}/stop", json={"reason": "patient became pregnant"}
    ).json()
    assert stopped["status"] == "stopped"
    assert stopped["status_reason"] == "patient became pregnant"
    assert audit_entries(treatable.db, action="stop", entity_type="treatment_plan")


def test_a_second_open_plan_is_refused(treatable: Any) -> None:
    assert create(treatable).status_code == 201
    r = create(treatable, protocol_code="minoxidil")
    assert r.status_code == 409 and r.json()["error"]["code"] == "open_plan_exists"


def test_rescheduling_shifts_later_sessions_and_keeps_intervals(treatable: Any) -> None:
    client = treatable.client("clinician")
    plan = create(treatable).json()
    third = date.fromisoformat(plan["sessions"][2]["planned_date"])
    new_date = third + timedelta(days=9)
    r = client.post(
        f"/api/v1/plans/{plan['id']}/sessions/3/reschedule", json={"new_date": new_date.isoformat()}
    )
    assert r.status_code == 200, r.text
    sessions = r.json()["sessions"]
    assert sessions[:2] == plan["sessions"][:2]
    assert sessions[2]["planned_date"] == new_date.isoformat()
    dates = [date.fromisoformat(s["planned_date"]) for s in sessions]
    assert all(
        (b - a).days >= s["min_gap_days"]
        for a, b, s in zip(dates, dates[1:], sessions[1:], strict=False)
    )
    assert dates[3] > date.fromisoformat(plan["sessions"][3]["planned_date"])


def test_rescheduling_too_early_is_refused_and_nothing_changes(treatable: Any) -> None:
    client = treatable.client("clinician")
    plan = create(treatable).json()
    second = date.fromisoformat(plan["sessions"][1]["planned_date"])
    r = client.post(
        f"/api/v1/plans/{plan['id']}/sessions/2/reschedule",
        json={"new_date": (second - timedelta(days=6)).isoformat()},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_date"
    assert client.get(f"/api/v1/plans/{plan['id']}").json()["sessions"] == plan["sessions"]


def test_reception_may_not_reschedule_a_plan(treatable: Any) -> None:
    plan = create(treatable).json()
    r = treatable.client("reception").post(
        f"/api/v1/plans/{plan['id']}/sessions/2/reschedule",
        json={"new_date": plan["sessions"][1]["planned_date"]},
    )
    assert r.status_code == 403


def test_patient_reads_only_their_own_plans(treatable: Any) -> None:
    plan = create(treatable).json()
    make_treatable(treatable, treatable.other_patient_a)
    other = create(treatable, patient=treatable.other_patient_a).json()
    patient = treatable.client("patient")
    assert patient.get(f"/api/v1/plans/{plan['id']}").status_code == 200
    assert [
        p["id"] for p in patient.get(f"/api/v1/patients/{treatable.patient_a.id}/plans").json()
    ] == [plan["id"]]
    assert patient.get(f"/api/v1/plans/{other['id']}").status_code == 404
    assert treatable.client("clinician_b").get(f"/api/v1/plans/{plan['id']}").status_code == 404
    assert audit_entries(treatable.db, action="read", entity_type="treatment_plan")
