"""The demo clinic: created once, realistic, and usable with the printed logins."""

from __future__ import annotations

from sqlalchemy import func, select

from mesoclinic.demo.seed import DEMO_PASSWORD, ensure_demo
from mesoclinic.patients.models import Consent, Patient


def test_demo_clinic_is_created_once_with_patients_and_consents(app, db):
    settings = app.state.settings
    assert ensure_demo(db.factory, settings) is True
    assert ensure_demo(db.factory, settings) is False
    with db.factory() as s:
        assert s.execute(select(func.count()).select_from(Patient)).scalar_one() == 30
        assert s.execute(select(func.count()).select_from(Consent)).scalar_one() >= 25


def test_demo_logins_work(app, db, anon):
    ensure_demo(db.factory, app.state.settings)
    for username in ("admin", "dr.moreau", "nurse.evans", "reception.khan", "patient.demo"):
        r = anon.post("/api/v1/auth/token", json={"username": username,
                                                  "password": DEMO_PASSWORD})
        assert r.status_code == 200, username
