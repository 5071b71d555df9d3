"""Paging parameters are bounded: a huge `offset` on any list is a 4xx, never a 500 (SQLite
cannot bind an integer past 2**63 and PostgreSQL refuses one past bigint)."""

from __future__ import annotations

from typing import Any

HUGE = str(10**20)
LIST_PAGES = ("/patients", "/admin/outbox", "/admin/audit")
# Lists that need more than paging parameters to answer.
REQUIRED = {
    "/api/v1/appointments": {
        "start": "2026-05-04T00:00:00+00:00",
        "end": "2026-05-11T00:00:00+00:00",
    },
}


def test_every_api_list_refuses_a_huge_offset(world: Any) -> None:
    client = world.client("admin")
    schema = client.get("/api/v1/openapi.json").json()
    paged = [
        path
        for path, item in schema["paths"].items()
        if "get" in item
        and any(p["name"] == "offset" for p in item["get"].get("parameters", []))
        and "{" not in path
    ]
    assert "/api/v1/patients" in paged and "/api/v1/outbox" in paged
    for path in paged:
        required = REQUIRED.get(path, {})
        r = client.get(path, params={**required, "offset": HUGE})
        assert r.status_code == 422, (path, r.status_code)
        assert r.json()["error"]["field"] == "offset"
        assert client.get(path, params={**required, "offset": "0"}).status_code == 200


def test_every_list_page_refuses_a_huge_offset(world: Any) -> None:
    web = world.web("admin")
    for path in LIST_PAGES:
        assert web.get(path).status_code == 200, path
        r = web.get(path, params={"offset": HUGE})
        assert 400 <= r.status_code < 500, (path, r.status_code)
