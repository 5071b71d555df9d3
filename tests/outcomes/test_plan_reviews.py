"""Plan reviews: "continue unchanged" after a non-responder verdict takes the patient off the
dashboard's review list until a newer value is measured; refused where there is nothing to
review; role-checked and audited on the API and the Progress tab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from mesoclinic.db import unit_of_work
from mesoclinic.outcomes.models import PlanReview
from mesoclinic.plans.models import PlanStatus, TreatmentPlan
from outcomes.measure_data import density, measured_course
from support import audit_entries, csrf_from

REASON = "Slow responder: photos show regrowth; the patient wishes to continue."
PANEL = "Review the plan: no measured response"


def _reviews(world: Any) -> int:
    with world.db.factory() as s:
        return s.scalar(select(func.count()).select_from(PlanReview)) or 0


def _review(world: Any, patient: Any, persona: str = "clinician", reason: str = REASON) -> Any:
    return world.client(persona).post(
        f"/api/v1/patients/{patient.id}/plan-reviews", json={"reason": reason}
    )


def _listed(world: Any, patient: Any) -> bool:
    page = world.web("clinician").get("/").text
    return f"/patients/{patient.id}/plan" in page


def test_continue_unchanged_clears_the_list_until_a_new_value(world):
    site = measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    assert _listed(world, world.patient_a)
    r = _review(world, world.patient_a)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"] == "continue" and body["reason"] == REASON
    assert body["rule_id"] == "non-responder.no-rule-met" and body["reviewed_by"]
    assert not _listed(world, world.patient_a)
    assert audit_entries(world.db, action="create", entity_type="plan_review")
    listed = world.client("clinician").get(f"/api/v1/patients/{world.patient_a.id}/plan-reviews")
    assert listed.status_code == 200 and [x["id"] for x in listed.json()] == [body["id"]]
    assert audit_entries(world.db, action="read", entity_type="plan_review")
    # A value measured after the review asks the question again.
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = world.client("clinician").post(
        f"/api/v1/patients/{world.patient_a.id}/measurements",
        json=density(site["id"], 141.5, measured_at=at),
    )
    assert r.status_code == 201, r.text
    assert _listed(world, world.patient_a)


def test_a_responder_is_not_reviewed_and_nothing_is_stored(world):
    measured_course(world, world.patient_a, 140.0, 161.0, "clinician")  # +15 %
    r = _review(world, world.patient_a)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "decision" and "non-responder rule" in error["message"]
    assert _reviews(world) == 0


def test_a_plan_no_longer_active_needs_no_review(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    with unit_of_work(world.db.factory) as s:
        s.execute(
            update(TreatmentPlan)
            .where(TreatmentPlan.patient_id == world.patient_a.id)
            .values(status=PlanStatus.PAUSED)
        )
    r = _review(world, world.patient_a)
    assert r.status_code == 409 and "no active plan" in r.json()["error"]["message"]
    assert _reviews(world) == 0


def test_the_reason_is_required_in_words(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    r = _review(world, world.patient_a, reason="ok")
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    assert _reviews(world) == 0


def test_who_may_review(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    assert _review(world, world.patient_a, "reception").status_code == 403
    assert _review(world, world.patient_a, "patient").status_code == 403
    assert _review(world, world.patient_a, "clinician_b").status_code == 404  # another clinic
    assert _reviews(world) == 0
    assert _review(world, world.patient_a, "nurse").status_code == 201


def test_the_progress_tab_form_records_the_review_and_shows_it(world):
    measured_course(world, world.patient_a, 140.0, 141.0, "clinician")
    web = world.web("clinician")
    url = f"/patients/{world.patient_a.id}/progress"
    page = web.get(url).text
    assert "Continue the plan unchanged" in page
    token = csrf_from(page)
    refused = web.post(f"{url}/plan-review", data={"reason": "", "csrf_token": token})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.text
    assert _reviews(world) == 0
    r = web.post(f"{url}/plan-review", data={"reason": REASON, "csrf_token": token})
    assert r.status_code == 303, r.text
    shown = web.get(url).text
    assert "the plan continues unchanged" in shown and REASON in shown
    assert "Continue the plan unchanged" not in shown
    assert _reviews(world) == 1
    # The patient sees the verdict, not the staff's review form.
    assert "Continue the plan unchanged" not in world.web("patient").get(url).text
