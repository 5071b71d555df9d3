"""The demo clinic's sites and measurements: both clinics, realistic curves, deterministic."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from mesoclinic.demo.seed import MAIN_CLINIC, SECOND_CLINIC
from mesoclinic.outcomes.models import Measurement, MeasurementSite
from mesoclinic.patients.models import Patient
from mesoclinic.security.models import Clinic


def _series(s, kind):
    """patient id -> [(measured_at, value)] oldest first (site-less kinds, or per first site)."""
    found = defaultdict(list)
    stmt = select(Measurement).where(Measurement.kind == kind).order_by(Measurement.measured_at)
    for m in s.execute(stmt).scalars():
        found[(m.patient_id, m.site_id)].append((m.measured_at, m.value))
    return found


def test_demo_clinics_have_sites_and_measurements_with_realistic_curves(app, db, demo):
    with db.factory() as s:
        clinics = {c.name: c.id for c in s.execute(select(Clinic)).scalars()}
        # The outcomes demo's patients (the analytics demo's past courses record density only).
        measured = set(
            s.execute(
                select(Measurement.patient_id).where(Measurement.kind == "comb_count_60s")
            ).scalars()
        )
        assert 6 <= len(measured) <= 10
        clinic_of = {p.id: p.clinic_id for p in s.execute(select(Patient)).scalars()}
        assert {clinic_of[p] for p in measured} == {clinics[MAIN_CLINIC], clinics[SECOND_CLINIC]}
        site_list = s.execute(select(MeasurementSite)).scalars().all()
        assert {x.location for x in site_list} >= {"vertex"}
        assert any(x.clipped for x in site_list) and all(x.description for x in site_list)
        kinds = set(s.execute(select(Measurement.kind)).scalars())
        assert kinds >= {
            "density_total",
            "comb_count_60s",
            "wash_count",
            "pull_test",
            "global_photo_assessment",
            "patient_satisfaction",
            "shedding_score",
        }
        photos = s.execute(
            select(Measurement).where(Measurement.kind == "global_photo_assessment")
        ).scalars()
        assert all(p.rater and p.blinded for p in photos)
        sources = set(s.execute(select(Measurement.source)).scalars())
        assert sources == {"manual", "device"}
        combs = _series(s, "comb_count_60s")
        spans = [(v[-1][0] - v[0][0]).days for v in combs.values()]
        assert min(spans) >= 170 and max(spans) <= 370
        falls = [v[-1][1] / v[0][1] for v in combs.values()]
        assert min(falls) <= 0.5  # telogen effluvium recovers: comb counts at least halve
        gains = [v[-1][1] / v[0][1] - 1 for v in _series(s, "density_total").values()]
        assert any(0.05 <= g <= 0.2 for g in gains)  # slow pattern-loss response
        assert any(abs(g) < 0.05 for g in gains)  # and a non-responder


def test_the_demo_patient_sees_their_outcomes(app, db, demo):
    from fastapi.testclient import TestClient

    from mesoclinic.demo.seed import DEMO_PASSWORD
    from support import csrf_from

    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_from(c.get("/login").text)
    c.post(
        "/login", data={"username": "patient.demo", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    with db.factory() as s:
        from mesoclinic.security.models import User

        me = s.execute(select(User).where(User.username == "patient.demo")).scalar_one()
    page = c.get(f"/patients/{me.patient_id}/outcomes")
    assert page.status_code == 200 and "device: TrichoScan" in page.text
    assert "Record a measurement" not in page.text
