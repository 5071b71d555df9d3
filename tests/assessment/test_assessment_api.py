"""Assessment API: decision on create, staging validation, history facts, list and read."""

from __future__ import annotations

from typing import Any

from support import audit_entries


def test_pregnancy_gives_absolute_contraindication_and_blocks(
    world: Any, clinician: Any, kit: Any
) -> None:
    r = clinician.post(kit.url(world.patient_a), json={**kit.female_fphl, "pregnant": True})
    assert r.status_code == 201, r.text
    decision = r.json()["decision"]
    pregnancy = [c for c in decision["contraindications"] if c["rule_id"] == "contra.pregnancy"]
    assert pregnancy and pregnancy[0]["severity"] == "absolute"
    assert pregnancy[0]["reason"] and pregnancy[0]["source"]
    assert decision["blocked"] is True
    assert decision["rulebook_version"] == "2026.1"


def test_norwood_vi_is_not_recommended_naming_the_rule(
    world: Any, clinician: Any, kit: Any
) -> None:
    body = {
        "diagnosis": "androgenetic_alopecia",
        "staging": {"scale": "norwood_hamilton", "grade": "VI"},
    }
    r = clinician.post(kit.url(world.other_patient_a), json=body)
    assert r.status_code == 201, r.text
    decision = r.json()["decision"]
    assert decision["candidacy"] == "not_recommended"
    assert [f["rule_id"] for f in decision["candidacy_findings"]] == [
        "candidacy.advanced_male_pattern"
    ]
    assert decision["needs_override"] == ["candidacy.advanced_male_pattern"]


def test_early_aga_without_history_is_recommended_with_codes(
    world: Any, clinician: Any, kit: Any
) -> None:
    body = {
        **kit.male_aga,
        "complaint": "thinning",
        "complaint_duration_months": 18,
        "pull_test_hairs": 3,
        "wash_test_count": 40,
        "comb_count": 12,
    }
    r = clinician.post(kit.url(world.other_patient_a), json=body)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"]["candidacy"] == "recommended"
    assert body["decision"]["contraindications"] == []
    assert (body["icd10"], body["snomed"]) == ("L64.9", "87872006")
    assert body["pull_test_positive"] is False
    assert r.headers["Location"].endswith(body["id"])
    assert audit_entries(world.db, action="create", entity_type="assessment", entity_id=body["id"])


def test_male_scale_for_female_patient_is_refused_naming_the_field(
    world: Any, clinician: Any, kit: Any
) -> None:
    r = clinician.post(kit.url(world.patient_a), json=kit.male_aga)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "staging.scale"
    assert clinician.get(kit.url(world.patient_a)).json() == []


def test_female_scale_for_male_patient_is_refused(world: Any, clinician: Any, kit: Any) -> None:
    r = clinician.post(
        kit.url(world.other_patient_a),
        json={"diagnosis": "androgenetic_alopecia", "staging": {"scale": "sinclair", "grade": "2"}},
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "staging.scale"


def test_unknown_grade_is_refused_naming_staging_grade(
    world: Any, clinician: Any, kit: Any
) -> None:
    r = clinician.post(
        kit.url(world.patient_a),
        json={
            "diagnosis": "female_pattern_hair_loss",
            "staging": {"scale": "ludwig", "grade": "IV"},
        },
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "staging.grade"


def test_unknown_diagnosis_is_refused_naming_the_field(
    world: Any, clinician: Any, kit: Any
) -> None:
    r = clinician.post(kit.url(world.patient_a), json={"diagnosis": "baldness"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "diagnosis"


def test_salt_from_regions_is_computed_with_severity(world: Any, clinician: Any, kit: Any) -> None:
    r = clinician.post(
        kit.url(world.patient_a),
        json={
            "diagnosis": "alopecia_areata",
            "staging": {
                "scale": "salt",
                "regions": {"vertex": 100, "right": 50, "left": 50, "back": 25},
            },
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["salt_score"] == 64.0
    assert body["salt_severity"] == "S3"
    assert {f["rule_id"] for f in body["decision"]["candidacy_findings"]} == {
        "candidacy.alopecia_areata",
        "candidacy.salt_extensive",
    }
    assert body["decision"]["candidacy"] == "caution"


def test_salt_out_of_range_region_is_refused(world: Any, clinician: Any, kit: Any) -> None:
    r = clinician.post(
        kit.url(world.patient_a),
        json={
            "diagnosis": "alopecia_areata",
            "staging": {
                "scale": "salt",
                "regions": {"vertex": 120, "right": 0, "left": 0, "back": 0},
            },
        },
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "staging.regions.vertex"


def test_omitted_facts_come_from_medical_history(world: Any, clinician: Any, kit: Any) -> None:
    pid = world.patient_a.id
    assert (
        clinician.post(
            f"/api/v1/patients/{pid}/medications",
            json={"name": "Warfarin", "category": "anticoagulant"},
        ).status_code
        == 201
    )
    assert (
        clinician.post(
            f"/api/v1/patients/{pid}/conditions",
            json={"name": "Type 2 diabetes", "kind": "diabetes"},
        ).status_code
        == 201
    )
    r = clinician.post(kit.url(world.patient_a), json=kit.female_fphl)
    decision = r.json()["decision"]
    assert {c["rule_id"] for c in decision["contraindications"]} == {
        "contra.anticoagulants",
        "contra.diabetes",
    }
    assert decision["candidacy"] == "caution"
    assert r.json()["facts"]["anticoagulants"] is True


def test_stated_fact_takes_precedence_over_history(world: Any, clinician: Any, kit: Any) -> None:
    pid = world.patient_a.id
    clinician.post(f"/api/v1/patients/{pid}/pregnancy-statuses", json={"value": "pregnant"})
    r = clinician.post(kit.url(world.patient_a), json={**kit.female_fphl, "pregnant": False})
    assert r.json()["decision"]["blocked"] is False
    r = clinician.post(kit.url(world.patient_a), json=kit.female_fphl)
    assert r.json()["decision"]["blocked"] is True


def test_list_and_get_are_audited_and_newest_first(world: Any, clinician: Any, kit: Any) -> None:
    first = clinician.post(
        kit.url(world.patient_a),
        json={**kit.female_fphl, "assessed_at": "2026-01-10T10:00:00+00:00"},
    ).json()
    second = clinician.post(
        kit.url(world.patient_a),
        json={**kit.female_fphl, "assessed_at": "2026-06-10T10:00:00+00:00"},
    ).json()
    listed = clinician.get(kit.url(world.patient_a)).json()
    assert [a["id"] for a in listed] == [second["id"], first["id"]]
    one = clinician.get(kit.url(world.patient_a, f"/{first['id']}"))
    assert one.status_code == 200 and one.json()["id"] == first["id"]
    assert audit_entries(world.db, action="read", entity_type="assessment", entity_id=first["id"])


def test_assessment_of_another_patient_is_not_found(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.patient_a), json=kit.female_fphl).json()
    r = clinician.get(kit.url(world.other_patient_a, f"/{made['id']}"))
    assert r.status_code == 404


def test_preview_stores_nothing_but_audits_history_read(
    world: Any, clinician: Any, kit: Any
) -> None:
    r = clinician.post(
        kit.url(world.patient_a, "/preview"), json={**kit.female_fphl, "breastfeeding": True}
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["contraindications"][0]["rule_id"] == "contra.breastfeeding"
    assert clinician.get(kit.url(world.patient_a)).json() == []
    assert audit_entries(
        world.db, action="read", entity_type="medical_history", patient_id=world.patient_a.id
    )


def test_void_keeps_the_assessment_marked(world: Any, clinician: Any, kit: Any) -> None:
    made = clinician.post(kit.url(world.patient_a), json=kit.female_fphl).json()
    r = clinician.post(
        kit.url(world.patient_a, f"/{made['id']}/entered-in-error"),
        json={"reason": "wrong patient selected"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "entered-in-error"
    again = clinician.post(
        kit.url(world.patient_a, f"/{made['id']}/entered-in-error"),
        json={"reason": "wrong patient selected"},
    )
    assert again.status_code == 409


def test_broken_clinic_rulebook_is_reported_and_nothing_stored(
    world: Any, clinician: Any, kit: Any, tmp_path: Any, monkeypatch: Any, app: Any
) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("version: x\ncandidacy: []\n")
    # The app locates the rulebook through its Settings (MESOCLINIC_RULEBOOK at start-up).
    monkeypatch.setattr(app.state.settings, "rulebook", broken)
    r = clinician.post(kit.url(world.patient_a), json=kit.female_fphl)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "rulebook_invalid"
    monkeypatch.setattr(app.state.settings, "rulebook", None)
    assert clinician.get(kit.url(world.patient_a)).json() == []
