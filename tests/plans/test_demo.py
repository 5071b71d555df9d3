"""The demo clinic shows plans in every state and a fortnight of appointments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mesoclinic.plans.models import Appointment, ClinicClosure, PlanSession, TreatmentPlan


def test_demo_has_plans_appointments_and_a_closure(app: Any, db: Any, demo: Any) -> None:
    assert demo.created
    with db.factory() as s:
        plans = list(s.execute(select(TreatmentPlan)).scalars())
        statuses = [p.status for p in plans]
        assert statuses.count("active") >= 8
        assert "paused" in statuses and "stopped" in statuses
        assert all(p.status_reason for p in plans if p.status == "stopped")
        assert len({p.protocol_code for p in plans}) >= 4
        sessions = list(s.execute(select(PlanSession)).scalars())
        assert {"done", "booked", "planned", "missed"} <= {x.status for x in sessions}
        appointments = list(s.execute(select(Appointment)).scalars())
        assert len({a.practitioner_id for a in appointments}) >= 2
        assert len({a.room for a in appointments}) == 2
        assert {"booked", "done"} <= {a.status for a in appointments}
        closures = list(s.execute(select(ClinicClosure)).scalars())
        assert len(closures) == 1
        closed_clinic = {p.id for p in plans if p.clinic_id == closures[0].clinic_id}
        assert not any(
            x.planned_date == closures[0].closed_on
            for x in sessions
            if x.plan_id in closed_clinic and x.status in ("planned", "booked")
        )
