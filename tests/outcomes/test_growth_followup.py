"""Phototrichogram pairs (validation and anagen %) and same-site follow-up, hair by hair."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.db import unit_of_work
from mesoclinic.imaging.synthetic import SyntheticHair
from mesoclinic.outcomes import jobs_worker
from mesoclinic.outcomes.models import AnalysisJob, ImageAnalysis, Measurement
from outcomes.image_factory import MLP, SPOTS, make_site, synthetic_image


def _mlp(world: Any) -> None:
    """Run the queued jobs with the MLP detector (drawn hairs: see image_factory)."""
    with unit_of_work(world.db.factory) as s:
        for job in s.execute(select(AnalysisJob)).scalars():
            job.algorithm_version = MLP
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)


def _image(world: Any, site: uuid.UUID | None, days: float, **kw: Any) -> uuid.UUID:
    return synthetic_image(
        world.db.factory,
        world.app.state.settings.images_dir,
        kw.pop("patient", world.patient_a),
        site_id=site,
        days=days,
        **kw,
    )


@pytest.mark.parametrize(
    ("clipped", "same_site", "days", "message"),
    [
        (True, False, 3, "different sites"),
        (False, True, 3, "not marked as clipped"),
        (True, True, 0.5, "1-5 days"),
        (True, True, 8, "1-5 days"),
    ],
)
def test_growth_pair_refusals(
    world: Any, clipped: bool, same_site: bool, days: float, message: str
) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=clipped)
    other = site if same_site else make_site(world.db.factory, world.patient_a.id, clipped=True)
    first, second = _image(world, site, 0), _image(world, other, days, seed=2)
    r = world.client("clinician").post(
        f"/api/v1/images/{first}/growth-pair", json={"second_image_id": str(second)}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "second_image_id"
    assert message in r.json()["error"]["message"]
    with world.db.factory() as s:
        assert s.execute(select(AnalysisJob)).first() is None


def test_growth_pair_of_another_patient_is_refused(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=True)
    other_site = make_site(world.db.factory, world.other_patient_a.id, clipped=True)
    first = _image(world, site, 0)
    second = _image(world, other_site, 2, patient=world.other_patient_a)
    r = world.client("clinician").post(
        f"/api/v1/images/{first}/growth-pair", json={"second_image_id": str(second)}
    )
    assert r.status_code == 422 and "different patients" in r.json()["error"]["message"]


def test_growth_pair_stores_anagen_and_telogen(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=True)
    grow = {0, 2, 4}
    before = [SyntheticHair(x, y, 320.0, 120, 18) for x, y in SPOTS]
    after = [
        SyntheticHair(x + 20, y + 12, 320.0, 120 + (80 if i in grow else 0), 18)
        for i, (x, y) in enumerate(SPOTS)
    ]
    first = _image(world, site, 0, hairs=before, device_profile=None)
    second = _image(world, site, 3, hairs=after, seed=2, device_profile=None)
    r = world.client("clinician").post(
        f"/api/v1/images/{second}/growth-pair", json={"second_image_id": str(first)}
    )
    assert r.status_code == 202, r.text
    assert r.json()["image_id"] == str(first)  # ordered by time whichever was named first
    _mlp(world)
    with world.db.factory() as s:
        result = s.execute(select(ImageAnalysis.result)).scalar_one()
        values = {m.kind: m.value for m in s.execute(select(Measurement)).scalars()}
    assert result["anagen_count"] == 3 and result["telogen_count"] == 3
    assert len(result["matched_hairs"]) == 6
    assert values == {"anagen_percent": 50.0, "telogen_percent": 50.0}


def test_follow_up_counts_kept_lost_and_new_hairs(world: Any, tmp_path: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id)
    baseline = [SyntheticHair(x, y, 320.0, 120, 18) for x, y in SPOTS]
    # Six months later, seen 16 px right and 10 px down: hair 1 and hair 5 are gone, two
    # new hairs have grown, the others are kept and thicker.
    kept = [h for i, h in enumerate(baseline) if i not in (1, 5)]
    later = [SyntheticHair(h.x + 16, h.y + 10, 320.0, 120, 22) for h in kept] + [
        SyntheticHair(450 + 16, 450 + 10, 320.0, 120, 18),
        SyntheticHair(820 + 16, 520 + 10, 320.0, 120, 18),
    ]
    first = _image(world, site, 0, hairs=baseline)
    second = _image(world, site, 180, hairs=later, seed=3)
    r = world.client("clinician").post(
        f"/api/v1/images/{first}/follow-up", json={"second_image_id": str(second)}
    )
    assert r.status_code == 202, r.text
    _mlp(world)
    with world.db.factory() as s:
        result = s.execute(select(ImageAnalysis.result)).scalar_one()
    assert (result["kept_count"], result["lost_count"], result["new_count"]) == (4, 2, 2)
    assert result["shift"][0] == pytest.approx(16, abs=4)
    assert result["mean_diameter_change_um"] > 0
    page = world.web("clinician").get(f"/images/{second}/review")
    assert "Follow-up of this site, hair by hair" in page.text


def test_follow_up_needs_the_same_site(world: Any) -> None:
    first = _image(world, make_site(world.db.factory, world.patient_a.id), 0)
    second = _image(world, make_site(world.db.factory, world.patient_a.id), 90, seed=2)
    r = world.client("nurse").post(
        f"/api/v1/images/{first}/follow-up", json={"second_image_id": str(second)}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "second_image_id"
    denied = world.client("clinician_b").post(
        f"/api/v1/images/{first}/follow-up", json={"second_image_id": str(second)}
    )
    assert denied.status_code == 404
