"""Pages answer in HTML: an invalid id in a page's path is the HTML 404 page (not JSON), and
other invalid query parameters are an HTML 422 page; the API keeps its JSON errors."""

from __future__ import annotations

from typing import Any

PAGES_WITH_IDS = ("/patients/not-a-uuid", "/patients/not-a-uuid/plan", "/stock/lots/123")


def test_an_invalid_uuid_in_a_page_path_is_the_html_404_page(world: Any) -> None:
    web = world.web("admin")
    for path in PAGES_WITH_IDS:
        r = web.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
        assert "<html" in r.text.lower()


def test_an_invalid_query_on_a_page_is_an_html_422(world: Any) -> None:
    r = world.web("admin").get("/patients", params={"offset": "-1"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")


def test_the_api_keeps_json_errors(world: Any) -> None:
    r = world.client("admin").get("/api/v1/patients/not-a-uuid")
    assert r.status_code == 422 and r.json()["error"]["field"] == "patient_id"
