"""The image page's phototrichogram and follow-up forms (plain posts) and result panels, and the
Outcomes tab's line per site."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from mesoclinic.db import unit_of_work
from mesoclinic.imaging.synthetic import SyntheticHair
from mesoclinic.outcomes import jobs_worker
from mesoclinic.outcomes.models import AnalysisJob, AnalysisKind
from outcomes.image_factory import MLP, SPOTS, make_site, synthetic_image
from support import csrf_from

GROWTH_SELECT = 'id="f-growth_second_image_id"'
BASELINE_SELECT = 'id="f-follow_up_second_image_id"'


def _image(world: Any, site: uuid.UUID | None, days: float, **kw: Any) -> uuid.UUID:
    return synthetic_image(
        world.db.factory,
        world.app.state.settings.images_dir,
        kw.pop("patient", world.patient_a),
        site_id=site,
        days=days,
        **kw,
    )


def _jobs(world: Any) -> list[tuple[AnalysisKind, uuid.UUID, uuid.UUID | None]]:
    with world.db.factory() as s:
        return [
            (j.kind, j.image_id, j.second_image_id)
            for j in s.execute(select(AnalysisJob)).scalars()
        ]


def _post(web: Any, image: uuid.UUID, route: str, second: str) -> Any:
    token = csrf_from(web.get(f"/images/{image}").text)
    return web.post(
        f"/images/{image}/{route}", data={"csrf_token": token, "second_image_id": second}
    )


def _options(html: str, select_id: str) -> str:
    """The <option>s of one select of the page."""
    return html.split(select_id, 1)[1].split("</select>", 1)[0]


def test_growth_form_lists_only_eligible_images_and_queues_the_pair(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=True)
    first = _image(world, site, 0)
    pair = _image(world, site, 2, seed=2)
    too_late = _image(world, site, 8, seed=3)
    elsewhere = _image(
        world, make_site(world.db.factory, world.patient_a.id, clipped=True), 2, seed=4
    )
    web = world.web("clinician")
    page = web.get(f"/images/{first}")
    assert page.status_code == 200 and "Phototrichogram: pair with…" in page.text
    options = _options(page.text, GROWTH_SELECT)
    assert str(pair) in options and "2.0 days after" in options
    assert str(too_late) not in options and str(elsewhere) not in options
    r = _post(web, first, "growth-pair", str(pair))
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/images/{first}#phototrichogram"
    assert _jobs(world) == [(AnalysisKind.GROWTH, first, pair)]
    after = web.get(f"/images/{pair}").text  # the pair shows on both images' pages
    assert "Paired with" in after and "The pair is being analysed" in after
    assert '<meta http-equiv="refresh"' in after


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("eight days", "1-5 days"),
        ("other site", "different sites"),
        ("other patient", "different patients"),
        ("not an id", "Choose an image from the list"),
        ("unknown id", "Image not found"),
    ],
)
def test_growth_refusal_is_a_field_error_and_queues_nothing(
    world: Any, case: str, message: str
) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=True)
    first = _image(world, site, 0)
    second = {
        "eight days": lambda: str(_image(world, site, 8, seed=2)),
        "other site": lambda: str(
            _image(world, make_site(world.db.factory, world.patient_a.id, clipped=True), 2, seed=2)
        ),
        "other patient": lambda: str(
            _image(
                world,
                make_site(world.db.factory, world.other_patient_a.id, clipped=True),
                2,
                seed=2,
                patient=world.other_patient_a,
            )
        ),
        "not an id": lambda: "the one from Tuesday",
        "unknown id": lambda: str(uuid.uuid4()),
    }[case]()
    r = _post(world.web("clinician"), first, "growth-pair", second)
    assert r.status_code == 422, r.text
    assert 'id="e-growth_second_image_id"' in r.text and message in r.text
    assert _jobs(world) == []


def test_unclipped_site_and_lone_image_say_why_in_plain_words(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=False)
    first = _image(world, site, 0)
    _image(world, site, 2, seed=2)
    page = world.web("clinician").get(f"/images/{first}").text
    assert GROWTH_SELECT not in page
    assert "The site Vertex is not marked as clipped" in page
    assert "this one is the baseline" in page and BASELINE_SELECT not in page
    lone = _image(world, None, 5, seed=3)
    page = world.web("clinician").get(f"/images/{lone}").text
    assert page.count("was not taken at a marked scalp site") == 2
    # Forged post for the unclipped site: refused beside the field, nothing queued.
    r = _post(world.web("clinician"), first, "growth-pair", str(lone))
    assert r.status_code == 422 and "marked scalp site" in r.text
    assert _jobs(world) == []


def test_follow_up_form_lists_earlier_images_and_queues_the_comparison(world: Any) -> None:
    site = make_site(world.db.factory, world.patient_a.id)
    baseline = _image(world, site, 0)
    middle = _image(world, site, 90, seed=2)
    latest = _image(world, site, 180, seed=3)
    web = world.web("clinician")
    options = _options(web.get(f"/images/{latest}").text, BASELINE_SELECT)
    assert str(baseline) in options and str(middle) in options
    assert options.index(str(middle)) < options.index(str(baseline))  # newest first
    assert "180.0 days before" in options
    assert str(latest) not in _options(web.get(f"/images/{middle}").text, BASELINE_SELECT)
    r = _post(web, latest, "follow-up", str(baseline))
    assert r.status_code == 303, r.text
    assert _jobs(world) == [(AnalysisKind.FOLLOW_UP, baseline, latest)]
    r = _post(web, latest, "follow-up", "")
    assert r.status_code == 422 and 'id="e-follow_up_second_image_id"' in r.text
    assert len(_jobs(world)) == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reception", 403), ("patient", 403), ("clinician_b", 404)],
)
def test_pair_routes_refuse_other_people(world: Any, persona: str, status: int) -> None:
    site = make_site(world.db.factory, world.patient_a.id, clipped=True)
    first, second = _image(world, site, 0), _image(world, site, 2, seed=2)
    web = world.web(persona)
    home = web.get("/", follow_redirects=True).text
    token = home.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    for route in ("growth-pair", "follow-up"):
        r = web.post(
            f"/images/{first}/{route}",
            data={"csrf_token": token, "second_image_id": str(second)},
        )
        assert r.status_code == status, (route, r.text)
    assert _jobs(world) == []


def _run_with_mlp(world: Any) -> None:
    """Run the queued jobs with the MLP detector (drawn hairs: see image_factory)."""
    with unit_of_work(world.db.factory) as s:
        for job in s.execute(select(AnalysisJob)).scalars():
            job.algorithm_version = MLP
    jobs_worker.run_pending(world.db.factory, world.app.state.settings)


def test_results_show_on_the_image_page_and_the_outcomes_tab(world: Any) -> None:
    clipped = make_site(world.db.factory, world.patient_a.id, clipped=True, label="Crown patch")
    grow = {0, 2, 4}
    before = [SyntheticHair(x, y, 320.0, 120, 18) for x, y in SPOTS]
    grown = [
        SyntheticHair(x + 20, y + 12, 320.0, 120 + (80 if i in grow else 0), 18)
        for i, (x, y) in enumerate(SPOTS)
    ]
    day0 = _image(world, clipped, 0, hairs=before, device_profile=None)
    day3 = _image(world, clipped, 3, hairs=grown, seed=2, device_profile=None)
    site = make_site(world.db.factory, world.patient_a.id)
    kept = [h for i, h in enumerate(before) if i not in (1, 5)]
    later = [SyntheticHair(h.x + 16, h.y + 10, 320.0, 120, 22) for h in kept] + [
        SyntheticHair(466, 460, 320.0, 120, 18),
        SyntheticHair(836, 530, 320.0, 120, 18),
    ]
    baseline = _image(world, site, 0, hairs=before, seed=5)
    follow = _image(world, site, 180, hairs=later, seed=3)
    web = world.web("nurse")
    assert _post(web, day3, "growth-pair", str(day0)).status_code == 303
    assert _post(web, follow, "follow-up", str(baseline)).status_code == 303
    _run_with_mlp(world)

    page = web.get(f"/images/{day0}").text
    assert 'id="anagen-percent">50.0&nbsp;%' in page
    assert 'id="telogen-percent">50.0&nbsp;%' in page
    assert 'id="hairs-matched">6<' in page and "3.0 days apart" in page
    assert f'href="/images/{day3}"' in page and "being analysed" not in page
    page = web.get(f"/images/{follow}").text
    assert 'id="hairs-kept">4<' in page and 'id="hairs-lost">2<' in page
    assert 'id="hairs-new">2<' in page
    assert "µm on average" in page.split('id="diameter-change"', 1)[1].split("</dd>", 1)[0]
    assert "Bokhari et al." in page and "under 1&nbsp;%" in page
    assert "Baseline" in page and f'href="/images/{baseline}"' in page
    tab = web.get(f"/patients/{world.patient_a.id}/outcomes").text
    assert "2 kept, 2 lost, 2 new" not in tab and "4 kept, 2 lost, 2 new" in tab
    assert f'href="/images/{follow}#follow-up"' in tab
    with world.db.factory() as s:
        assert s.execute(select(func.count()).select_from(AnalysisJob)).scalar() == 2
