"""A real FHIR client (fhirpy) against a live uvicorn server: read, search with paging through
the Bundle `next` links, $everything, and an OperationOutcome surfacing as the client's error."""

from __future__ import annotations

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from fhir_data import allergy, densities

pytestmark = pytest.mark.committed


def test_fhirpy_reads_searches_with_paging_and_fetches_everything(world, live_server):
    made = densities(world, world.patient_a, [118.0, 121.0, 127.0, 133.0, 139.0])
    allergy(world, world.patient_a)
    client = SyncFHIRClient(
        f"{live_server.url}/fhir", authorization=f"Bearer {world.tokens['clinician']}"
    )

    patient = client.reference("Patient", str(world.patient_a.id)).to_resource()
    assert patient["name"][0]["family"] == "Silva"

    observations = client.resources("Observation").search(patient=str(world.patient_a.id))
    assert observations.count() == 5
    fetched = observations.limit(2).fetch_all()  # three pages, following `next`
    assert [o["id"] for o in fetched] == [m["id"] for m in made]
    assert [o["valueQuantity"]["value"] for o in fetched] == [118.0, 121.0, 127.0, 133.0, 139.0]
    later = observations.search(date__ge="2026-01-04").fetch_all()
    assert [o["id"] for o in later] == [m["id"] for m in made[3:]]

    bundle = client.reference("Patient", str(world.patient_a.id)).execute(
        "$everything", method="get"
    )
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Observation", "AllergyIntolerance", "BodyStructure", "Provenance"} <= types

    foreign = SyncFHIRClient(
        f"{live_server.url}/fhir", authorization=f"Bearer {world.tokens['clinician_b']}"
    )
    with pytest.raises(ResourceNotFound):
        foreign.reference("Patient", str(world.patient_a.id)).to_resource()
    with pytest.raises(OperationOutcome):
        client.resources("Observation").search(date="not-a-date").fetch()
