"""Assessment pages: tab with gate and history, form with errors, preview fragment, overrides."""

from __future__ import annotations

import re
from typing import Any

from support import audit_entries, csrf_from


def _web(world: Any, persona: str, path: str) -> tuple[Any, str]:
    client = world.web(persona)
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client, csrf_from(page.text)


def test_tab_lists_assessments_and_shows_the_gate(world: Any, clinician: Any, kit: Any) -> None:
    clinician.post(kit.url(world.patient_a), json={**kit.female_fphl, "pregnant": True})
    page = world.web("clinician").get(f"/patients/{world.patient_a.id}/assessments")
    assert page.status_code == 200
    assert "Not ready to plan treatment" in page.text
    assert "consent.missing" in page.text and "contra.pregnancy" in page.text
    assert "Female pattern hair loss".lower() in page.text.lower() or "female pattern" in page.text
    assert f'href="/patients/{world.patient_a.id}/assessments"' in page.text


def test_tab_says_ready_when_nothing_blocks(world: Any, clinician: Any, kit: Any) -> None:
    kit.sign_consent(clinician, world.patient_a)
    clinician.post(kit.url(world.patient_a), json=kit.female_fphl)
    page = world.web("nurse").get(f"/patients/{world.patient_a.id}/assessments")
    assert "Ready to plan treatment" in page.text


def test_reception_has_no_assessment_tab(world: Any) -> None:
    client = world.web("reception")
    assert client.get(f"/patients/{world.patient_a.id}/assessments").status_code == 403
    overview = client.get(f"/patients/{world.patient_a.id}")
    assert "/assessments" not in overview.text


def test_form_saves_and_shows_the_decision(world: Any) -> None:
    pid = world.other_patient_a.id
    client, token = _web(world, "clinician", f"/patients/{pid}/assessments/new")
    r = client.post(
        f"/patients/{pid}/assessments/new",
        data={
            "csrf_token": token,
            "diagnosis": "androgenetic_alopecia",
            "staging_scale": "norwood_hamilton",
            "staging_grade": "vi",
            "complaint": "receding",
            "anticoagulants": "yes",
        },
    )
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"])
    assert "Not recommended" in detail.text
    assert "candidacy.advanced_male_pattern" in detail.text
    assert "contra.anticoagulants" in detail.text and "Source:" in detail.text
    assert "Record override" in detail.text


def test_invalid_form_keeps_input_and_names_the_field(world: Any) -> None:
    pid = world.patient_a.id
    client, token = _web(world, "clinician", f"/patients/{pid}/assessments/new")
    r = client.post(
        f"/patients/{pid}/assessments/new",
        data={
            "csrf_token": token,
            "diagnosis": "androgenetic_alopecia",
            "staging_scale": "norwood_hamilton",
            "staging_grade": "III",
            "complaint": "thinning",
        },
    )
    assert r.status_code == 422
    assert 'id="e-staging_scale"' in r.text and "not used for female" in r.text
    assert "thinning" in r.text
    r = client.post(
        f"/patients/{pid}/assessments/new",
        data={
            "csrf_token": token,
            "diagnosis": "female_pattern_hair_loss",
            "staging_scale": "ludwig",
            "staging_grade": "V",
        },
    )
    assert r.status_code == 422 and 'id="e-staging_grade"' in r.text
    assert world.client("clinician").get(f"/api/v1/patients/{pid}/assessments").json() == []


def test_salt_regions_from_the_form_are_computed(world: Any) -> None:
    pid = world.patient_a.id
    client, token = _web(world, "clinician", f"/patients/{pid}/assessments/new")
    r = client.post(
        f"/patients/{pid}/assessments/new",
        data={
            "csrf_token": token,
            "diagnosis": "alopecia_areata",
            "staging_scale": "salt",
            "salt_vertex": "50",
            "salt_right": "10",
            "salt_left": "10",
            "salt_back": "0",
        },
    )
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"]).text
    assert "SALT 23.6" in detail and "severity S1" in detail


def test_preview_fragment_renders_the_decision_and_stores_nothing(world: Any) -> None:
    pid = world.patient_a.id
    client, token = _web(world, "clinician", f"/patients/{pid}/assessments/new")
    r = client.post(
        f"/patients/{pid}/assessments/preview",
        data={"csrf_token": token, "diagnosis": "telogen_effluvium", "breastfeeding": "yes"},
    )
    assert r.status_code == 200
    assert "contra.breastfeeding" in r.text and "Not recommended" in r.text
    assert "Raised to “not recommended” by the contraindications" in r.text
    assert "preview, not saved" in r.text
    empty = client.post(f"/patients/{pid}/assessments/preview", data={"csrf_token": token})
    assert "Fill in the diagnosis" in empty.text
    assert world.client("clinician").get(f"/api/v1/patients/{pid}/assessments").json() == []


def test_override_form_requires_a_reason_then_records_it(world: Any, clinician: Any) -> None:
    pid = world.other_patient_a.id
    made = clinician.post(
        f"/api/v1/patients/{pid}/assessments",
        json={
            "diagnosis": "androgenetic_alopecia",
            "staging": {"scale": "norwood_hamilton", "grade": "VII"},
        },
    ).json()
    path = f"/patients/{pid}/assessments/{made['id']}"
    client, token = _web(world, "clinician", path)
    r = client.post(
        f"{path}/overrides",
        data={"csrf_token": token, "rule_id": "candidacy.advanced_male_pattern", "reason": "short"},
    )
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = client.post(
        f"{path}/overrides",
        data={
            "csrf_token": token,
            "rule_id": "candidacy.advanced_male_pattern",
            "reason": "Wants to try for the vertex; accepts limited benefit.",
        },
    )
    assert r.status_code == 303
    detail = client.get(path).text
    assert "overridden by clinician.user" in detail
    assert audit_entries(world.db, action="override", entity_id=made["id"])


def test_nurse_sees_no_override_form(world: Any, clinician: Any) -> None:
    pid = world.other_patient_a.id
    made = clinician.post(
        f"/api/v1/patients/{pid}/assessments", json={"diagnosis": "scarring_alopecia"}
    ).json()
    page = world.web("nurse").get(f"/patients/{pid}/assessments/{made['id']}")
    assert page.status_code == 200 and "Record override" not in page.text


def test_entered_in_error_from_the_page(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.patient_a), json=kit.female_fphl).json()
    path = f"/patients/{world.patient_a.id}/assessments/{made['id']}"
    client, token = _web(world, "clinician", path)
    r = client.post(f"{path}/entered-in-error", data={"csrf_token": token, "reason": "dup"})
    assert r.status_code == 422
    r = client.post(
        f"{path}/entered-in-error", data={"csrf_token": token, "reason": "duplicate entry"}
    )
    assert r.status_code == 303
    assert re.search(r"entered in error", client.get(path).text)


def test_dashboard_lists_decisions_awaiting_an_override(world: Any, clinician: Any) -> None:
    pid = world.other_patient_a.id
    made = clinician.post(
        f"/api/v1/patients/{pid}/assessments",
        json={
            "diagnosis": "androgenetic_alopecia",
            "staging": {"scale": "norwood_hamilton", "grade": "VI"},
        },
    ).json()
    page = world.web("clinician").get("/")
    assert "Decisions awaiting you" in page.text
    assert f"/patients/{pid}/assessments/{made['id']}" in page.text
    # The reason in plain words (its first clause), not the rule id.
    assert "Advanced genetic pattern baldness (Norwood-Hamilton VI-VII)" in page.text
    assert "candidacy.advanced_male_pattern" not in page.text
    assert "Decisions awaiting you" not in world.web("nurse").get("/").text
    assert "Decisions awaiting you" in world.web("clinician_b").get("/").text
    assert str(pid) not in world.web("clinician_b").get("/").text
