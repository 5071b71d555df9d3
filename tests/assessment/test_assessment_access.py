"""Every assessment route: allowed roles succeed, no credentials 401, wrong role 403, other
clinic's patient 404, invalid input 422 naming the field with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

FPHL = {"diagnosis": "female_pattern_hair_loss", "staging": {"scale": "ludwig", "grade": "II"}}
NORWOOD_VI = {
    "diagnosis": "androgenetic_alopecia",
    "staging": {"scale": "norwood_hamilton", "grade": "VI"},
}
REASON = {
    "rule_id": "candidacy.advanced_male_pattern",
    "reason": "Patient accepts limited benefit after discussion.",
}


def _routes(world: Any) -> list[tuple[str, str, str, Any, tuple[str, ...]]]:
    """(method, path template, expected status, body, roles allowed)."""
    writers = ("admin", "clinician", "nurse")
    return [
        ("post", "/api/v1/patients/{pid}/assessments", "201", FPHL, writers),
        ("post", "/api/v1/patients/{pid}/assessments/preview", "200", FPHL, writers),
        ("get", "/api/v1/patients/{pid}/assessments", "200", None, writers),
        ("get", "/api/v1/patients/{pid}/assessments/{aid}", "200", None, writers),
        (
            "post",
            "/api/v1/patients/{pid}/assessments/{nid}/overrides",
            "201",
            REASON,
            ("admin", "clinician"),
        ),
        (
            "post",
            "/api/v1/patients/{pid}/assessments/{aid}/entered-in-error",
            "200",
            {"reason": "recorded on the wrong visit"},
            writers,
        ),
        ("get", "/api/v1/patients/{pid}/treatment-gate", "200", None, writers),
    ]


def _arrange(world: Any, patient: Any, client: Any, body: Any = FPHL) -> dict[str, str]:
    r = client.post(f"/api/v1/patients/{patient.id}/assessments", json=body)
    assert r.status_code == 201, r.text
    return {"pid": str(patient.id), "aid": r.json()["id"], "nid": r.json()["id"]}


def _call(client: Any, method: str, path: str, body: Any) -> Any:
    return client.request(method.upper(), path, json=body)


@pytest.mark.parametrize("index", range(7))
def test_allowed_roles_succeed_and_others_are_refused(world: Any, index: int) -> None:
    method, template, status, body, allowed = _routes(world)[index]
    for persona in ("admin", "clinician", "nurse", "reception", "patient"):
        # The overrides route needs a fresh not-recommended (Norwood VI, male) assessment.
        if "overrides" in template:
            ids = _arrange(world, world.other_patient_a, world.client("admin"), NORWOOD_VI)
        else:
            ids = _arrange(world, world.patient_a, world.client("admin"))
        r = _call(world.client(persona), method, template.format(**ids), body)
        expected = int(status) if persona in allowed else 403
        assert r.status_code == expected, (persona, template, r.text)


@pytest.mark.parametrize("index", range(7))
def test_no_credentials_is_401(world: Any, anon: Any, index: int) -> None:
    method, template, _status, body, _allowed = _routes(world)[index]
    ids = _arrange(world, world.patient_a, world.client("clinician"))
    assert _call(anon, method, template.format(**ids), body).status_code == 401


@pytest.mark.parametrize("index", range(7))
def test_other_clinics_patient_is_404(world: Any, index: int) -> None:
    method, template, _status, body, _allowed = _routes(world)[index]
    ids = _arrange(world, world.patient_b, world.client("clinician_b"))
    r = _call(world.client("clinician"), method, template.format(**ids), body)
    assert r.status_code == 404


def test_patient_user_cannot_read_own_assessments(world: Any) -> None:
    _arrange(world, world.patient_a, world.client("clinician"))
    r = world.client("patient").get(f"/api/v1/patients/{world.patient_a.id}/assessments")
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"staging": FPHL["staging"]}, "diagnosis"),
        ({**FPHL, "pregnant": "maybe"}, "pregnant"),
        ({**FPHL, "comb_count": -1}, "comb_count"),
        ({**FPHL, "unexpected": 1}, "unexpected"),
        ({**FPHL, "assessed_at": "2026-01-01T10:00:00"}, "assessed_at"),
        ({**FPHL, "staging": {"scale": "sinclair", "grade": "6"}}, "staging.grade"),
        ({**FPHL, "staging": {"scale": "salt", "grade": 101}}, "staging.grade"),
        ({**FPHL, "staging": {"scale": "ludwig"}}, "staging"),
        ({**FPHL, "conditions": ["gout"]}, "conditions.0"),
    ],
)
def test_invalid_input_is_422_naming_the_field_and_nothing_stored(
    world: Any, body: Any, field: str
) -> None:
    c = world.client("clinician")
    r = c.post(f"/api/v1/patients/{world.patient_a.id}/assessments", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert c.get(f"/api/v1/patients/{world.patient_a.id}/assessments").json() == []


def test_voided_patient_cannot_be_assessed(world: Any) -> None:
    c = world.client("clinician")
    r = c.post(
        f"/api/v1/patients/{world.patient_a.id}/void", json={"reason": "duplicate registration"}
    )
    assert r.status_code == 200, r.text
    r = c.post(f"/api/v1/patients/{world.patient_a.id}/assessments", json=FPHL)
    assert r.status_code == 409
