"""The measurement service: image-analysis provenance, history rules, provenance in words."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mesoclinic.db import unit_of_work
from mesoclinic.errors import InvalidInput, InvalidTransition
from mesoclinic.outcomes import display, service, sites
from mesoclinic.outcomes.kinds import load_kinds
from mesoclinic.outcomes.models import ClinicalImage, ImageBlob, ImageKind
from mesoclinic.outcomes.schemas import MeasurementCorrection, MeasurementCreate, SiteCreate
from mesoclinic.security.actor import cli_actor
from outcomes.measure_data import rows
from support import audit_entries

BOOK = load_kinds()
AGO = datetime.now(UTC) - timedelta(days=2)


def _image(s, world, site_id):
    s.add(
        ImageBlob(
            sha256="a" * 64,
            upload_sha256="a" * 64,
            media_type="image/png",
            byte_size=10,
            width=10,
            height=10,
        )
    )
    image = ClinicalImage(
        patient_id=world.patient_a.id,
        clinic_id=world.clinic_a.id,
        site_id=site_id,
        kind=ImageKind.TRICHOSCOPY,
        taken_at=AGO,
        blob_sha256="a" * 64,
    )
    s.add(image)
    s.flush()
    return image


def test_an_image_analysis_value_keeps_algorithm_and_image(world):
    with unit_of_work(world.db.factory) as s:
        site = sites.create(
            s, world.actor("clinician"), world.patient_a.id, SiteCreate(location="vertex")
        )
        image = _image(s, world, site.id)
        value = service.AnalysisValue(
            kind="hair_count",
            value=212,
            unit="{hairs}",
            image_id=image.id,
            algorithm_version="0.3.1",
            measured_at=AGO,
            site_id=site.id,
        )
        m = service.record_from_analysis(s, cli_actor("worker"), world.patient_a.id, value, BOOK)
        assert m.source == "image-analysis" and m.algorithm_version == "0.3.1"
        assert m.image_id == image.id and m.recorded_by == "worker"
        assert display.provenance(m, {}) == "image analysis 0.3.1"
        mid = m.id
    assert audit_entries(world.db, action="create", entity_id=str(mid))


@pytest.mark.parametrize(
    "change, field",
    [
        ({"algorithm_version": " "}, "algorithm_version"),
        ({"unit": "/cm2"}, "unit"),
        ({"site_id": None}, "site_id"),
    ],
)
def test_a_bad_analysis_value_is_refused_naming_the_field(world, change, field):
    with pytest.raises(InvalidInput) as refused, unit_of_work(world.db.factory) as s:
        site = sites.create(
            s, world.actor("clinician"), world.patient_a.id, SiteCreate(location="vertex")
        )
        image = _image(s, world, site.id)
        values = {
            "kind": "hair_count",
            "value": 212,
            "unit": "{hairs}",
            "image_id": image.id,
            "algorithm_version": "0.3.1",
            "measured_at": AGO,
            "site_id": site.id,
        }
        values.update(change)
        service.record_from_analysis(
            s, cli_actor("worker"), world.patient_a.id, service.AnalysisValue(**values), BOOK
        )
    assert refused.value.field == field
    assert rows(world.db) == 0


def test_provenance_is_said_in_words(world):
    with unit_of_work(world.db.factory) as s:
        actor = world.actor("clinician")
        comb = MeasurementCreate(kind="comb_count_60s", value=80, unit="{hairs}", measured_at=AGO)
        typed = service.create(s, actor, world.patient_a.id, comb, BOOK)
        names = service.recorder_names(s, {typed.recorded_by})
        assert display.provenance(typed, names) == "entered by Clinician"
        wash = MeasurementCreate(
            kind="wash_count",
            value=120,
            unit="{hairs}",
            measured_at=AGO,
            device_name="HairCounter 2",
        )
        assert display.provenance(
            service.create(s, actor, world.patient_a.id, wash, BOOK), names
        ) == ("device: HairCounter 2")


def test_a_voided_value_cannot_be_corrected_and_history_is_kept(world):
    with unit_of_work(world.db.factory) as s:
        actor = world.actor("nurse")
        data = MeasurementCreate(kind="pull_test", value=9, unit="{hairs}", measured_at=AGO)
        m = service.create(s, actor, world.patient_a.id, data, BOOK)
        service.void(s, actor, m.id, "wrong patient")
        with pytest.raises(InvalidTransition):
            service.correct(s, actor, m.id, MeasurementCorrection(value=3, reason="typo"), BOOK)
        everything = service.MeasurementQuery(include_voided=True, include_superseded=True)
        assert [x.id for x in service.list_for(s, actor, world.patient_a.id, everything)] == [m.id]
        assert display.state(m) == "entered in error"


def test_grouping_puts_sites_first_then_kinds_in_rulebook_order(world):
    with unit_of_work(world.db.factory) as s:
        actor = world.actor("clinician")
        vertex = sites.create(s, actor, world.patient_a.id, SiteCreate(location="vertex"))
        for kind, value, unit, site in (
            ("comb_count_60s", 50, "{hairs}", None),
            ("mean_shaft_diameter", 61, "um", vertex.id),
            ("density_total", 150, "/cm2", vertex.id),
        ):
            data = MeasurementCreate(
                kind=kind, value=value, unit=unit, measured_at=AGO, site_id=site
            )
            service.create(s, actor, world.patient_a.id, data, BOOK)
        found = service.list_for(s, actor, world.patient_a.id)
        groups = display.group_measurements(found, [vertex], BOOK)
        assert [g.title for g in groups] == ["Vertex", "Not at a scalp site"]
        assert [k.code for k in groups[0].kinds] == ["density_total", "mean_shaft_diameter"]
        assert (
            display.unit_words("/cm2") == "hairs/cm²"
            and display.unit_words("/cm2", "follicular_unit_density") == "units/cm²"
            and display.unit_words("{hairs}") == "hairs"
        )


def test_unknown_patient_is_not_found(world):
    from mesoclinic.errors import NotFound

    with pytest.raises(NotFound), unit_of_work(world.db.factory) as s:
        data = MeasurementCreate(kind="pull_test", value=1, unit="{hairs}", measured_at=AGO)
        service.create(s, world.actor("clinician"), uuid.uuid4(), data, BOOK)
