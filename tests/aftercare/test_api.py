"""Aftercare API: visit precautions, calendar file, declared events, conflicts, opt-out, outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from mesoclinic.aftercare.models import DeclaredEvent
from mesoclinic.patients.models import Patient
from support import audit_entries

NOW = datetime.now(UTC).replace(microsecond=0)
CODES = {
    "avoid_sun",
    "no_hair_wash",
    "no_hair_colour",
    "no_sauna_pool",
    "stop_blood_thinning_supplements",
}


def event_count(world: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(DeclaredEvent)).scalar_one()


@pytest.mark.parametrize("persona", ["clinician", "nurse", "reception", "admin", "patient"])
def test_visit_aftercare_lists_every_precaution_window(
    world: Any, add_visit: Any, persona: str
) -> None:
    performed = NOW - timedelta(hours=1)
    visit_id = add_visit(world.patient_a, performed)
    r = world.client(persona).get(f"/api/v1/visits/{visit_id}/aftercare")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {p["code"] for p in body["precautions"]} == CODES
    sun = next(p for p in body["precautions"] if p["code"] == "avoid_sun")
    assert set(sun) >= {"code", "starts_at", "ends_at", "instruction"}
    assert datetime.fromisoformat(sun["ends_at"]) == performed + timedelta(hours=48)
    assert audit_entries(world.db, action="read", entity_type="aftercare", entity_id=str(visit_id))


def test_visit_aftercare_refuses_outsiders(world: Any, anon: Any, add_visit: Any) -> None:
    visit_id = add_visit(world.other_patient_a, NOW - timedelta(hours=1))
    url = f"/api/v1/visits/{visit_id}/aftercare"
    assert anon.get(url).status_code == 401
    assert world.client("clinician_b").get(url).status_code == 404
    assert (
        world.client("patient").get(url).status_code == 404
    )  # not the patient's own visit: as if unknown
    assert (
        world.client("clinician")
        .get("/api/v1/visits/00000000-0000-0000-0000-000000000000/aftercare")
        .status_code
        == 404
    )
    assert (
        world.client("clinician")
        .get("/api/v1/visits/not-a-uuid/aftercare")
        .json()["error"]["field"]
        == "visit_id"
    )


def test_voided_visit_has_no_aftercare(world: Any, add_visit: Any) -> None:
    visit_id = add_visit(world.patient_a, NOW, status="entered-in-error")
    r = world.client("clinician").get(f"/api/v1/visits/{visit_id}/aftercare")
    assert r.status_code == 409 and r.json()["error"]["code"] == "visit_voided"


def test_calendar_file_parses_and_holds_appointments_and_windows(
    world: Any, add_appointment: Any, add_visit: Any
) -> None:
    appointment_id = add_appointment(world.patient_a, NOW + timedelta(days=3))
    add_visit(world.patient_a, NOW - timedelta(hours=2))
    r = world.client("patient").get(f"/api/v1/patients/{world.patient_a.id}/calendar.ics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = list(cal.walk("VEVENT"))
    appointments = [e for e in events if str(e["TRANSP"]) == "OPAQUE"]
    windows = [e for e in events if str(e["TRANSP"]) == "TRANSPARENT"]
    assert [str(e["UID"]) for e in appointments] == [f"appointment-{appointment_id}@mesoclinic"]
    assert {str(e["X-MESOCLINIC-PRECAUTION"]) for e in windows} == CODES
    sun = [e for e in windows if str(e["X-MESOCLINIC-PRECAUTION"]) == "avoid_sun"]
    assert len(sun) == 2  # the next appointment's and the running one of today's visit
    starts = sorted(e.decoded("DTSTART") for e in sun)
    assert starts[1] == NOW + timedelta(days=3)
    assert audit_entries(
        world.db, action="export", entity_type="calendar", patient_id=world.patient_a.id
    )


def test_calendar_file_refuses_outsiders(world: Any, anon: Any) -> None:
    url = f"/api/v1/patients/{world.other_patient_a.id}/calendar.ics"
    assert anon.get(url).status_code == 401
    assert world.client("patient").get(url).status_code == 404
    assert world.client("clinician_b").get(url).status_code == 404
    assert world.client("reception").get(url).status_code == 200


def test_patient_declares_event_and_booking_warns_with_safe_date(world: Any) -> None:
    colour_day = (NOW + timedelta(days=20)).date()
    client = world.client("patient")
    r = client.post(
        f"/api/v1/patients/{world.patient_a.id}/declared-events",
        json={
            "kind": "hair_colouring",
            "starts_on": colour_day.isoformat(),
            "ends_on": colour_day.isoformat(),
            "note": "Salon appointment",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["created_by"] == world.users["patient"].username
    proposed = (NOW + timedelta(days=17)).replace(hour=10, minute=0, second=0)
    r = world.client("reception").get(
        f"/api/v1/patients/{world.patient_a.id}/precaution-conflicts",
        params={"starts_at": proposed.isoformat()},
    )
    assert r.status_code == 200
    [warning] = r.json()["warnings"]
    assert warning["code"] == "no_hair_colour" and warning["severity"] == "warning"
    assert warning["rule_id"] == "aftercare.no_hair_colour" and warning["source"]
    suggested = date.fromisoformat(warning["suggested_date"])
    assert abs((suggested - proposed.date()).days) <= 12
    clear = world.client("clinician").get(
        f"/api/v1/patients/{world.patient_a.id}/precaution-conflicts",
        params={"starts_at": (NOW + timedelta(days=40)).isoformat()},
    )
    assert clear.json()["warnings"] == []
    assert audit_entries(world.db, action="create", entity_type="declared_event")
    assert audit_entries(world.db, action="read", entity_type="precaution_conflicts")


def test_booking_warnings_service_is_what_booking_calls(world: Any, session: Any) -> None:
    from mesoclinic.aftercare.rulebook import load
    from mesoclinic.aftercare.service import booking_warnings

    day = (NOW + timedelta(days=10)).date()
    session.add(
        DeclaredEvent(
            patient_id=world.patient_a.id,
            kind="beach_holiday",
            starts_on=day,
            ends_on=day + timedelta(days=6),
        )
    )
    session.flush()
    found = booking_warnings(session, world.patient_a.id, NOW + timedelta(days=9), rulebook=load())
    assert {f.code for f in found} == {"avoid_sun", "no_sauna_pool"}
    assert all(f.suggested_date is not None for f in found)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "hair_colouring", "starts_on": "2030-05-10", "ends_on": "2030-05-01"}, None),
        ({"kind": "tattoo", "starts_on": "2030-05-10", "ends_on": "2030-05-10"}, "kind"),
        ({"kind": "sauna", "starts_on": "2030-05-10"}, "ends_on"),
        ({"kind": "sauna", "starts_on": "2020-05-10", "ends_on": "2020-05-11"}, None),
        ({"kind": "sauna", "starts_on": "2030-05-10", "ends_on": "2030-05-10", "x": 1}, "x"),
    ],
)
def test_invalid_declared_event_is_refused_and_nothing_stored(
    world: Any, payload: Any, field: str | None
) -> None:
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/declared-events", json=payload
    )
    assert r.status_code == 422
    if field:
        assert r.json()["error"]["field"] == field
    assert event_count(world) == 0


def test_declared_events_are_scoped(world: Any, anon: Any) -> None:
    url = f"/api/v1/patients/{world.other_patient_a.id}/declared-events"
    payload = {"kind": "sauna", "starts_on": "2030-05-10", "ends_on": "2030-05-10"}
    assert anon.post(url, json=payload).status_code == 401
    assert world.client("patient").post(url, json=payload).status_code == 404
    assert world.client("clinician_b").post(url, json=payload).status_code == 404
    assert world.client("clinician_b").get(url).status_code == 404
    assert event_count(world) == 0
    created = world.client("nurse").post(url, json=payload)
    assert created.status_code == 201
    assert [e["kind"] for e in world.client("reception").get(url).json()] == ["sauna"]
    void_url = f"/api/v1/declared-events/{created.json()['id']}/void"
    assert world.client("clinician_b").post(void_url).status_code == 404
    assert world.client("patient").post(void_url).status_code == 404
    void = world.client("nurse").post(void_url)
    assert void.status_code == 200, void.text
    assert void.json()["status"] == "entered-in-error"
    assert world.client("nurse").post(void_url).status_code == 409
    assert world.client("reception").get(url).json() == []


def test_conflict_check_needs_an_aware_time(world: Any, anon: Any) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/precaution-conflicts"
    assert anon.get(url, params={"starts_at": NOW.isoformat()}).status_code == 401
    r = world.client("clinician").get(url)
    assert r.status_code == 422 and r.json()["error"]["field"] == "starts_at"
    r = world.client("clinician").get(url, params={"starts_at": "2030-01-01T10:00:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "starts_at"
    assert (
        world.client("clinician_b").get(url, params={"starts_at": NOW.isoformat()}).status_code
        == 404
    )


def test_patient_opts_out_of_email(world: Any, anon: Any) -> None:
    url = f"/api/v1/patients/{world.patient_a.id}/email-preference"
    assert anon.put(url, json={"email_opt_out": True}).status_code == 401
    assert world.client("clinician_b").put(url, json={"email_opt_out": True}).status_code == 404
    assert (
        world.client("patient")
        .put(
            f"/api/v1/patients/{world.other_patient_a.id}/email-preference",
            json={"email_opt_out": True},
        )
        .status_code
        == 404
    )
    bad = world.client("patient").put(url, json={"email_opt_out": "perhaps"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email_opt_out"
    r = world.client("patient").put(url, json={"email_opt_out": True})
    assert r.status_code == 200 and r.json()["email_opt_out"] is True
    with world.db.factory() as s:
        assert s.get(Patient, world.patient_a.id).email_opt_out is True
    assert audit_entries(world.db, action="update", entity_type="email_preference")


def test_outbox_list_is_staff_only_and_clinic_scoped(
    world: Any, anon: Any, add_appointment: Any, smtp: Any, mail_settings: Any
) -> None:
    from mesoclinic.aftercare import worker

    add_appointment(world.patient_a, NOW + timedelta(hours=30))
    add_appointment(world.patient_b, NOW + timedelta(hours=30))
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    assert anon.get("/api/v1/outbox").status_code == 401
    assert world.client("patient").get("/api/v1/outbox").status_code == 403
    mine = world.client("reception").get("/api/v1/outbox").json()
    assert mine["total"] == 2
    assert {i["patient_id"] for i in mine["items"]} == {str(world.patient_a.id)}
    assert world.client("admin").get("/api/v1/outbox").json()["total"] == 4
    sent = world.client("clinician").get("/api/v1/outbox", params={"status": "sent"}).json()
    assert [i["kind"] for i in sent["items"]] == ["pre_visit_precautions"]
    r = world.client("clinician").get("/api/v1/outbox", params={"status": "lost"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"


def test_suggested_date_is_a_day_the_clinic_is_open(world: Any, session: Any) -> None:
    from mesoclinic.aftercare.rulebook import load
    from mesoclinic.aftercare.service import booking_warnings
    from mesoclinic.plans import clinic_calendar
    from mesoclinic.plans.schedule import is_open

    day = (NOW + timedelta(days=30)).date()
    session.add(
        DeclaredEvent(
            patient_id=world.patient_a.id, kind="hair_colouring", starts_on=day, ends_on=day
        )
    )
    session.flush()

    calendar = clinic_calendar.load(session, world.clinic_a.id)
    for shift in range(7):  # whatever weekday the clash falls on
        starts = NOW + timedelta(days=27 + shift)
        for finding in booking_warnings(session, world.patient_a.id, starts, rulebook=load()):
            assert finding.suggested_date is not None
            assert is_open(finding.suggested_date, calendar.opening_days, calendar.closures)
