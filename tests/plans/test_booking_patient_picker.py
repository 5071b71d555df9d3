"""The calendar's booking form finds the patient by a typed name, record number or phone: one
match books, several come back as choices, none is an error; the page lists no patients."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mesoclinic.plans.models import Appointment
from plans.plan_support import next_weekday
from support import audit_entries, csrf_from


def _form(world: Any, token: str, **patient: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "practitioner_id": str(world.users["clinician"].id),
        "room": "Room 1",
        "date": next_weekday(2).isoformat(),
        "time": "10:00",
        "view": "day",
        **patient,
    }


def _appointments(world: Any) -> list[Any]:
    with world.db.factory() as s:
        return list(s.execute(select(Appointment.patient_id)).scalars())


def test_the_calendar_page_lists_no_patient(world):
    page = world.web("reception").get("/calendar").text
    assert 'id="f-patient"' in page
    # Nobody is booked, so no patient's name or record number is on the page.
    for patient in (world.patient_a, world.other_patient_a):
        assert patient.record_number not in page and str(patient.id) not in page
        assert f"{patient.family_name}, {patient.given_name}" not in page


def test_one_match_books_that_patient(world):
    web = world.web("reception")
    token = csrf_from(web.get("/calendar").text)
    r = web.post(
        "/calendar/book", data=_form(world, token, patient=world.other_patient_a.record_number)
    )
    assert r.status_code == 303, r.text
    assert _appointments(world) == [world.other_patient_a.id]
    search = audit_entries(world.db, action="search", entity_type="patient")
    assert search and str(world.other_patient_a.id) in str(search[-1].detail)


def test_several_matches_are_offered_and_the_choice_books(world):
    made = world.client("reception").post(
        "/api/v1/patients",
        json={
            "given_name": "Beatriz",
            "family_name": "Costa",
            "birth_date": "1991-02-03",
            "sex": "female",
        },
    )
    assert made.status_code == 201, made.text
    web = world.web("reception")
    token = csrf_from(web.get("/calendar").text)
    r = web.post("/calendar/book", data=_form(world, token, patient="costa"))
    assert r.status_code == 422
    assert "2 patients match" in r.text and "Which patient?" in r.text
    assert "Costa, Bruno" in r.text and "Costa, Beatriz" in r.text
    assert _appointments(world) == []
    r = web.post(
        "/calendar/book",
        data=_form(world, token, patient="costa", patient_id=made.json()["id"]),
    )
    assert r.status_code == 303, r.text
    assert [str(p) for p in _appointments(world)] == [made.json()["id"]]


def test_no_match_or_nothing_typed_is_an_error_on_the_field(world):
    web = world.web("reception")
    token = csrf_from(web.get("/calendar").text)
    r = web.post("/calendar/book", data=_form(world, token, patient="Ruiz"))  # another clinic's
    assert r.status_code == 422 and "No patient of this clinic matches" in r.text
    r = web.post("/calendar/book", data=_form(world, token))
    assert r.status_code == 422 and "Type the patient&#39;s name" in r.text
    assert _appointments(world) == []


def test_a_refused_booking_keeps_the_chosen_patient(world):
    web = world.web("reception")
    token = csrf_from(web.get("/calendar").text)
    form = _form(world, token, patient="Silva")
    form["room"] = "No such room"
    r = web.post("/calendar/book", data=form)
    assert r.status_code == 422
    assert f'name="patient_id" value="{world.patient_a.id}" checked' in r.text
    assert _appointments(world) == []
