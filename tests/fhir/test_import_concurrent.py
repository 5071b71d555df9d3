"""The same referral sent several times at the same moment to a live server: one patient and
one copy of each record, every sender answered 200 (issue 16 item 6 for `POST /fhir`, which is
matched by identifiers rather than keyed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from double_submit_support import RACERS, race
from fhir_records import referral
from mesoclinic.outcomes.models import Measurement
from mesoclinic.patients.models import Allergy, Condition, Patient

# a live server and threads racing on their own connections
pytestmark = pytest.mark.committed


def _count(world: Any, model: Any, *where: Any) -> int:
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_one_referral_sent_at_the_same_moment_is_stored_once(world, live_server):
    patients_before = _count(world, Patient)
    headers = {
        "Authorization": f"Bearer {world.tokens['clinician']}",
        "Content-Type": "application/fhir+json",
    }
    bundle = referral()

    def send() -> httpx.Response:
        return httpx.post(f"{live_server.url}/fhir", json=bundle, headers=headers, timeout=60)

    results = race(send)

    assert [r.status_code for r in results] == [200] * RACERS, [r.text[:300] for r in results]
    statuses = sorted(r.json()["entry"][0]["response"]["status"] for r in results)
    assert statuses.count("201 Created") == 1, statuses  # one sender created, the rest matched
    assert _count(world, Patient) == patients_before + 1
    assert _count(world, Patient, Patient.family_name == "Okafor") == 1
    assert _count(world, Condition, Condition.name == "Iron deficiency") == 1
    assert _count(world, Allergy, Allergy.substance == "Penicillin") == 1
    assert _count(world, Measurement) == 1
