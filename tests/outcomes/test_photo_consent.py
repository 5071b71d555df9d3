"""Photo consent scopes: recorded, replaced, withdrawn, and honoured by uploads and exports."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

from image_support import give_photo_consent, image_bytes, row_counts, upload
from support import audit_entries


def _consent_body(**scopes: bool) -> dict:
    return {
        "signed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "signed_by": "Ana Silva",
        **scopes,
    }


def test_photo_without_clinical_record_consent_is_refused(world):
    c = world.client("clinician")
    before = row_counts(world.db)
    r = upload(c, world.patient_a.id, image_bytes(), kind="photo", view="vertex")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "photo_consent_missing"
    assert "clinical record" in r.json()["error"]["message"]
    assert row_counts(world.db) == before
    # Trichoscopy images are part of the measurement itself, not photographs of the patient.
    assert upload(c, world.patient_a.id, image_bytes("PNG")).status_code == 201


def test_consent_recorded_then_withdrawn_is_honoured_from_then_on(world):
    c = world.client("clinician")
    base = f"/api/v1/patients/{world.patient_a.id}/photo-consents"
    r = c.post(base, json=_consent_body(clinical_record=True))
    assert r.status_code == 201 and r.json()["current"] is True
    photo = upload(c, world.patient_a.id, image_bytes(), kind="photo", view="frontal")
    assert photo.status_code == 201
    w = c.post(f"/api/v1/photo-consents/{r.json()['id']}/withdraw", json={"reason": "asked"})
    assert w.status_code == 200 and w.json()["withdrawn_at"]
    again = upload(c, world.patient_a.id, image_bytes("PNG"), kind="photo", view="frontal")
    assert again.status_code == 409
    # The photo stored while consent was in force stays in the record.
    assert c.get(photo.json()[0]["file_url"]).status_code == 200
    assert (
        c.post(
            f"/api/v1/photo-consents/{r.json()['id']}/withdraw", json={"reason": "x2x"}
        ).status_code
        == 409
    )
    assert audit_entries(world.db, action="withdraw", entity_type="photo_consent")


def test_a_new_form_replaces_the_current_one(world):
    c = world.client("nurse")
    base = f"/api/v1/patients/{world.patient_a.id}/photo-consents"
    first = c.post(base, json=_consent_body(marketing=True, teaching=True)).json()
    second = c.post(base, json=_consent_body(marketing=False)).json()
    listed = c.get(base).json()
    assert [x["id"] for x in listed if x["current"]] == [second["id"]]
    old = next(x for x in listed if x["id"] == first["id"])
    assert old["withdrawn_at"] and "superseded" in old["withdrawn_reason"]


def test_consent_routes_are_scoped(world):
    base = f"/api/v1/patients/{world.patient_a.id}/photo-consents"
    assert world.client("reception").get(base).status_code == 403
    assert world.client("clinician_b").get(base).status_code == 404
    assert world.client("patient").post(base, json=_consent_body()).status_code == 403
    assert world.client("patient").get(base).status_code == 200
    future = _consent_body()
    future["signed_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    r = world.client("clinician").post(base, json=future)
    assert r.status_code == 422 and r.json()["error"]["field"] == "signed_at"


def _export(world, purpose: str):
    return world.client("clinician").get(
        f"/api/v1/patients/{world.patient_a.id}/images/export", params={"purpose": purpose}
    )


def test_marketing_export_refuses_photos_without_that_scope(world):
    give_photo_consent(world.db, world.patient_a.id, clinical_record=True, teaching=True)
    c = world.client("clinician")
    assert (
        upload(c, world.patient_a.id, image_bytes(), kind="photo", view="vertex").status_code == 201
    )
    r = _export(world, "marketing")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "photo_consent_missing"
    assert "marketing" in r.json()["error"]["message"]
    teaching = _export(world, "teaching")
    assert teaching.status_code == 200 and teaching.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(teaching.content)).namelist()
    assert "manifest.json" in names and any(n.endswith("_photo_vertex.jpg") for n in names)
    assert not any("Silva" in n or "Ana" in n for n in names)
    assert audit_entries(world.db, action="export", patient_id=world.patient_a.id)


def test_marketing_export_with_consent_then_withdrawn(world):
    consent_id = give_photo_consent(world.db, world.patient_a.id, marketing=True)
    c = world.client("clinician")
    upload(c, world.patient_a.id, image_bytes(), kind="photo", view="occipital")
    assert _export(world, "marketing").status_code == 200
    c.post(f"/api/v1/photo-consents/{consent_id}/withdraw", json={"reason": "changed mind"})
    assert _export(world, "marketing").status_code == 409
    assert _export(world, "publicity").status_code == 422
    assert (
        world.client("patient")
        .get(f"/api/v1/patients/{world.patient_a.id}/images/export?purpose=teaching")
        .status_code
        == 403
    )
