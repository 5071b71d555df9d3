"""Aftercare pages: the patient tab and portal, instruction sheet HTML and PDF, outbox admin."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from mesoclinic.aftercare.models import DeclaredEvent
from mesoclinic.patients.models import Patient
from support import audit_entries, csrf_from

NOW = datetime.now(UTC).replace(microsecond=0)


def csrf(html: str) -> str:
    return csrf_from(html)


def test_patient_portal_shows_current_precautions_and_next_session(
    world: Any, add_visit: Any, add_appointment: Any
) -> None:
    add_visit(world.patient_a, NOW - timedelta(hours=3))
    add_appointment(world.patient_a, NOW + timedelta(days=10))
    web = world.web("patient")
    r = web.get(f"/patients/{world.patient_a.id}/aftercare")
    assert r.status_code == 200
    assert "Now: avoid sun exposure</strong> until" in r.text
    assert "Before the next session" in r.text and "Stop aspirin" in r.text
    assert "calendar.ics" in r.text and "instructions.pdf" in r.text
    assert (
        f'href="/patients/{world.patient_a.id}/aftercare"'
        in web.get(f"/patients/{world.patient_a.id}").text
    )  # the portal's Aftercare tab
    assert web.get(f"/patients/{world.other_patient_a.id}/aftercare").status_code == 404


def test_patient_declares_event_through_the_form(world: Any) -> None:
    web = world.web("patient")
    url = f"/patients/{world.patient_a.id}/aftercare"
    token = csrf(web.get(url).text)
    day = (NOW + timedelta(days=30)).date().isoformat()
    r = web.post(
        f"{url}/events",
        data={
            "csrf_token": token,
            "kind": "beach_holiday",
            "starts_on": day,
            "ends_on": day,
            "note": "Algarve",
        },
    )
    assert r.status_code == 303
    assert "Algarve" in web.get(url).text


def test_invalid_event_form_keeps_input_and_stores_nothing(world: Any) -> None:
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/aftercare"
    token = csrf(web.get(url).text)
    r = web.post(
        f"{url}/events",
        data={
            "csrf_token": token,
            "kind": "sauna",
            "starts_on": "2030-05-10",
            "ends_on": "2030-05-01",
            "note": "Spa weekend",
        },
    )
    assert r.status_code == 422
    assert "ends_on must be on or after starts_on" in r.text and "Spa weekend" in r.text
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(DeclaredEvent)).scalar_one() == 0


def test_patient_turns_email_off_in_the_portal(world: Any) -> None:
    web = world.web("patient")
    url = f"/patients/{world.patient_a.id}/aftercare"
    token = csrf(web.get(url).text)
    assert (
        web.post(f"{url}/email", data={"csrf_token": token, "email_opt_out": "on"}).status_code
        == 303
    )
    with world.db.factory() as s:
        assert s.get(Patient, world.patient_a.id).email_opt_out is True
    assert web.post(f"{url}/email", data={"email_opt_out": "on"}).status_code == 403  # no CSRF


def test_aftercare_tab_refuses_anonymous_and_other_clinic(world: Any, anon: Any) -> None:
    url = f"/patients/{world.patient_a.id}/aftercare"
    r = anon.get(url, follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert world.web("clinician_b").get(url).status_code == 404
    assert world.web("reception").get(url).status_code == 200


def test_instruction_sheet_html_and_pdf_show_the_windows(world: Any, add_visit: Any) -> None:
    visit_id = add_visit(world.patient_a, NOW - timedelta(hours=1))
    web = world.web("patient")
    html = web.get(f"/visits/{visit_id}/instructions")
    assert html.status_code == 200
    assert "Aftercare instructions" in html.text and 'data-code="no_sauna_pool"' in html.text
    pdf = web.get(f"/visits/{visit_id}/instructions.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    for phrase in (
        "Aftercare instructions",
        "Avoid sun exposure",
        "Do not wash your hair",
        "No sauna, pool or heavy sweating",
        "Ana Silva",
    ):
        assert phrase in text, phrase
    assert audit_entries(
        world.db, action="export", entity_type="aftercare", entity_id=str(visit_id)
    )


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_instruction_sheet_is_scoped(world: Any, anon: Any, add_visit: Any, suffix: str) -> None:
    visit_id = add_visit(world.other_patient_a, NOW - timedelta(hours=1))
    url = f"/visits/{visit_id}/instructions{suffix}"
    assert anon.get(url, follow_redirects=False).status_code == 303
    assert world.web("patient").get(url).status_code == 404
    assert world.web("clinician_b").get(url).status_code == 404
    assert world.web("nurse").get(url).status_code == 200


def test_outbox_admin_page_lists_messages_for_staff_only(
    world: Any, add_appointment: Any, smtp: Any, mail_settings: Any
) -> None:
    from mesoclinic.aftercare import worker

    add_appointment(world.patient_a, NOW + timedelta(hours=30))
    worker.run_once(world.db.factory, mail_settings, now=NOW)
    r = world.web("reception").get("/admin/outbox")
    assert r.status_code == 200
    assert "pre visit precautions" in r.text and "ana@example.org" in r.text
    assert 'badge ok">sent' in r.text and ">queued<" in r.text
    assert "Patient emails" in world.web("reception").get("/").text
    assert world.web("patient").get("/admin/outbox").status_code == 403
    assert "ana@example.org" not in world.web("clinician_b").get("/admin/outbox").text


def test_staff_check_a_session_time_on_the_tab(world: Any, session: Any) -> None:
    day = (NOW + timedelta(days=20)).date()
    session.add(
        DeclaredEvent(
            patient_id=world.patient_a.id, kind="hair_colouring", starts_on=day, ends_on=day
        )
    )
    session.commit()
    web = world.web("reception")
    url = f"/patients/{world.patient_a.id}/aftercare"
    checked = (day - timedelta(days=2)).isoformat() + "T10:30"
    r = web.get(url, params={"check_at": checked})
    assert r.status_code == 200
    assert "Nearest date without a conflict" in r.text
    assert web.get(url, params={"check_at": "soon"}).status_code == 422
    assert audit_entries(world.db, action="read", entity_type="precaution_conflicts")
