"""The /fhir REST face: metadata, read, search with paging and _include, $everything, errors."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from fhir_data import FHIR_JSON, allergy, densities, outcome
from mesoclinic.fhir.api import router as fhir_router
from mesoclinic.security.models import AuditEntry


def _bundle(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    get_fhir_model_class("Bundle").model_validate(body)
    return body


def _ids(bundle, mode="match"):
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def test_metadata_is_an_r4b_capability_statement_listing_what_is_served(anon):
    r = anon.get("/fhir/metadata")
    assert r.status_code == 200
    statement = r.json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    assert statement["fhirVersion"] == "4.3.0"
    resources = {res["type"]: res for res in statement["rest"][0]["resource"]}
    assert {p["name"] for p in resources["Observation"]["searchParam"]} >= {
        "patient",
        "code",
        "date",
    }
    assert resources["Patient"]["operation"][0]["name"] == "everything"
    routes = {route.path for route in fhir_router.routes}  # type: ignore[attr-defined]
    for name, resource in resources.items():
        codes = {i["code"] for i in resource["interaction"]}
        assert ("read" in codes) == (f"/fhir/{name}/{{resource_id}}" in routes)
        assert ("search-type" in codes) == (f"/fhir/{name}" in routes)


def test_clinician_reads_a_patient_and_the_read_is_audited(world, db):
    r = world.client("clinician").get(f"/fhir/Patient/{world.patient_a.id}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(FHIR_JSON)
    patient = r.json()
    assert patient["id"] == str(world.patient_a.id)
    assert patient["identifier"][0]["value"] == world.patient_a.record_number
    with db.factory() as s:
        entries = s.execute(
            select(AuditEntry).where(
                AuditEntry.patient_id == world.patient_a.id,
                AuditEntry.action == "read",
                AuditEntry.actor_username == "clinician.user",
            )
        ).scalars()
        assert any(e.entity_type == "patient" for e in entries)


def test_observation_search_pages_with_next_links_and_filters_by_date(world):
    made = densities(world, world.patient_a, [120.0, 125.0, 131.0, 138.0, 140.0])
    client = world.client("clinician")
    url = f"/fhir/Observation?patient=Patient/{world.patient_a.id}&_count=2"
    seen: list[str] = []
    pages = 0
    while url:
        bundle = _bundle(client.get(url))
        assert bundle["total"] == 5
        seen += _ids(bundle)
        pages += 1
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert pages == 3
    assert seen == [m["id"] for m in made]
    ranged = _bundle(
        client.get(
            f"/fhir/Observation?patient={world.patient_a.id}&date=ge2026-01-02&date=le2026-01-03"
            "&code=https://mesoclinic.org/fhir/CodeSystem/hair-metric|density_total"
        )
    )
    assert _ids(ranged) == [made[1]["id"], made[2]["id"]]
    assert (
        _bundle(client.get(f"/fhir/Observation?patient={world.patient_a.id}&code=wash_count"))[
            "total"
        ]
        == 0
    )


def test_include_adds_the_patient_once(world):
    densities(world, world.patient_a, [120.0])
    bundle = _bundle(
        world.client("nurse").get(
            f"/fhir/Observation?patient={world.patient_a.id}&_include=Observation:patient"
        )
    )
    assert _ids(bundle, "include") == [str(world.patient_a.id)]


def test_patient_search_by_name_birthdate_and_identifier(world):
    client = world.client("clinician")
    by_name = _bundle(client.get("/fhir/Patient?name=costa"))
    assert _ids(by_name) == [str(world.other_patient_a.id)]
    by_birth = _bundle(client.get("/fhir/Patient?birthdate=1985-04-12"))
    assert _ids(by_birth) == [str(world.patient_a.id)]
    number = world.patient_a.record_number
    by_number = _bundle(client.get(f"/fhir/Patient?identifier={number}"))
    assert _ids(by_number) == [str(world.patient_a.id)]
    system = f"https://mesoclinic.org/fhir/sid/clinic/{world.clinic_b.id}/record-number"
    assert _bundle(client.get(f"/fhir/Patient?identifier={system}|{number}"))["total"] == 0


def test_everything_holds_the_record_with_provenance(world):
    allergy(world, world.patient_a)
    densities(world, world.patient_a, [120.0])
    bundle = _bundle(
        world.client("clinician").get(f"/fhir/Patient/{world.patient_a.id}/$everything")
    )
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "AllergyIntolerance", "Observation", "BodyStructure", "Provenance"} <= types
    assert bundle["entry"][0]["resource"]["id"] == str(world.patient_a.id)
    provenance = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Provenance"
        and e["resource"]["target"][0]["reference"].startswith("AllergyIntolerance/")
    )
    read_back = world.client("clinician").get(f"/fhir/Provenance/{provenance['id']}")
    assert read_back.status_code == 200 and read_back.json() == provenance


def test_each_read_type_answers_its_own_resource(world):
    made = allergy(world, world.patient_a)
    (measurement,) = densities(world, world.patient_a, [120.0])
    client = world.client("clinician")
    assert client.get(f"/fhir/AllergyIntolerance/{made['id']}").json()["code"]["text"] == "Biotin"
    observation = client.get(f"/fhir/Observation/{measurement['id']}").json()
    assert observation["valueQuantity"]["value"] == 120.0
    site = observation["extension"][0]["valueReference"]["reference"]
    assert client.get(f"/fhir/{site}").json()["resourceType"] == "BodyStructure"
    outcome(client.get(f"/fhir/Procedure/{measurement['id']}"), 404)


def test_bad_parameters_are_400_operation_outcomes_naming_the_parameter(world):
    client = world.client("clinician")
    body = outcome(client.get("/fhir/Observation?patient=x&date=2026-13-01"), 400)
    assert "patient" in body["issue"][0]["diagnostics"] or body["issue"][0]["expression"]
    assert outcome(client.get("/fhir/Observation"), 400)["issue"][0]["expression"] == ["patient"]
    for query in ("_count=101", "_count=abc", "_offset=-1"):
        outcome(client.get(f"/fhir/Patient?{query}"), 400)
    outcome(client.get(f"/fhir/Observation?patient={world.patient_a.id}&date=notadate"), 400)
    outcome(client.get(f"/fhir/Observation?patient={world.patient_a.id}&_include=Foo:bar"), 400)
    outcome(client.get("/fhir/Patient?birthdate=ge1980-01-01"), 400)


def test_missing_malformed_and_unknown_are_operation_outcomes(world, anon):
    client = world.client("clinician")
    outcome(client.get("/fhir/Patient/not-a-uuid"), 422)
    outcome(client.get("/fhir/Patient/00000000-0000-4000-8000-000000000000"), 404)
    outcome(client.get("/fhir/Encounter/00000000-0000-4000-8000-000000000000"), 404)
    outcome(client.post("/fhir/metadata"), 405)
    unauthenticated = outcome(anon.get(f"/fhir/Patient/{world.patient_a.id}"), 401)
    assert unauthenticated["issue"][0]["code"] == "login"
    outcome(world.client("reception").get(f"/fhir/Patient/{world.patient_a.id}"), 403)


def test_local_code_systems_are_served_openly(anon):
    r = anon.get("/fhir/CodeSystem/hair-metric")
    assert r.status_code == 200
    system = r.json()
    get_fhir_model_class("CodeSystem").model_validate(system)
    assert system["url"] == "https://mesoclinic.org/fhir/CodeSystem/hair-metric"
    assert {c["code"] for c in system["concept"]} >= {"density_total", "mean_shaft_diameter"}
    outcome(anon.get("/fhir/CodeSystem/no-such-system"), 404)
