"""The demo clinic: created once, realistic, and usable with the printed logins."""

from __future__ import annotations

from sqlalchemy import func, select

from mesoclinic.analytics.demo import PAST_COURSES
from mesoclinic.demo.seed import DEMO_PASSWORD, ensure_demo
from mesoclinic.fhir.demo import REFERRALS
from mesoclinic.patients.models import Consent, Patient
from support import csrf_from


def test_demo_clinic_is_created_once_with_patients_and_consents(app, db, demo):
    settings = app.state.settings
    assert demo.created is True  # ensure_demo on the empty database (the `demo` fixture)
    assert ensure_demo(db.factory, settings) is False
    with db.factory() as s:
        # The 30 people of the base demo, the analytics demo's past courses, the FHIR referrals.
        patients = s.execute(select(func.count()).select_from(Patient)).scalar_one()
        assert patients == 30 + PAST_COURSES + len(REFERRALS)  # and each clinic's referral
        assert s.execute(select(func.count()).select_from(Consent)).scalar_one() >= 25


def test_demo_logins_work(app, db, anon, demo):
    for username in (
        "admin",
        "dr.moreau",
        "nurse.evans",
        "reception.khan",
        "manager.harley",
        "manager.madrid",
        "patient.demo",
    ):
        r = anon.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, username


def _web_login(app, username):
    from fastapi.testclient import TestClient

    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = c.get("/login")
    token = csrf_from(page.text)
    r = c.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 303
    return c


def test_guided_tour_links_open_for_each_role(app, db, demo, monkeypatch):
    monkeypatch.setattr(app.state, "show_tour", True, raising=False)
    for username, minimum in (
        ("dr.moreau", 8),
        ("dr.garcia", 2),
        ("admin", 8),
        ("reception.khan", 2),
        ("manager.harley", 2),
        ("patient.demo", 0),
    ):
        c = _web_login(app, username)
        home = c.get("/", follow_redirects=True)
        assert home.status_code == 200
        if username == "patient.demo":
            continue
        assert "Guided tour of the demo clinic" in home.text
        links = [
            part.split('"', 1)[0]
            for part in home.text.split('<ol class="tour">', 1)[1]
            .split("</ol>", 1)[0]
            .split('<a href="')[1:]
        ]
        assert len(links) >= minimum, (username, links)
        if username.startswith("dr."):  # each clinic's referral, received as a FHIR Bundle
            assert "A referral received as FHIR" in home.text
            visits = [link for link in links if link.endswith("/visits")]
            assert any("recorded elsewhere" in c.get(link).text for link in visits), links
        if username == "dr.moreau":  # a demo responder's and a non-responder's Progress tab
            assert (
                "See whether the treatment works" in home.text and "When it does not" in home.text
            )
            assert len({link for link in links if link.endswith("/progress")}) == 2, links
        for link in links:
            assert c.get(link).status_code == 200, (username, link)
