"""The calendar's booking form for a plan session: a refusal redraws the form (422), and a
malformed plan id or session number is a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from plans.plan_support import make_treatable, next_weekday
from support import csrf_from


def _plan(world: Any) -> dict[str, Any]:
    make_treatable(world, world.patient_a)
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/plans",
        json={"protocol_code": "meso-prp", "start_date": next_weekday(1).isoformat()},
    )
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


def _form(world: Any, plan_id: str, sequence: str, **overrides: str) -> dict[str, str]:
    day = next_weekday(1)
    data = {
        "plan_id": plan_id,
        "sequence": sequence,
        "practitioner_id": str(world.users["nurse"].id),
        "room": "Room 1",
        "date": day.isoformat(),
        "time": "09:00",
        "view": "day",
    }
    data.update(overrides)
    return data


def test_a_refused_plan_session_booking_redraws_the_form(world: Any) -> None:
    plan = _plan(world)
    web = world.web("reception")
    page = web.get(f"/calendar?plan_id={plan['id']}&sequence=1")
    assert page.status_code == 200
    token = csrf_from(page.text)
    missing = _form(world, plan["id"], "1", practitioner_id="")
    r = web.post("/calendar/book", data={"csrf_token": token, **missing})
    assert r.status_code == 422 and "Book session 1" in r.text
    first = web.post("/calendar/book", data={"csrf_token": token, **_form(world, plan["id"], "1")})
    assert first.status_code == 303
    again = web.post("/calendar/book", data={"csrf_token": token, **_form(world, plan["id"], "1")})
    assert again.status_code == 422 and "Book session 1" in again.text


def test_a_malformed_plan_id_or_sequence_is_a_4xx(world: Any) -> None:
    plan = _plan(world)
    web = world.web("reception")
    token = csrf_from(web.get("/calendar").text)
    for plan_id, sequence in (("garbage", "1"), (plan["id"], "abc"), (plan["id"], "-3")):
        r = web.post(
            "/calendar/book", data={"csrf_token": token, **_form(world, plan_id, sequence)}
        )
        assert 400 <= r.status_code < 500, (plan_id, sequence, r.status_code)
        assert "Traceback" not in r.text
