"""Security headers and cache control on every response; the flash cookie is Secure like the
session cookie and never names a patient; templates hold no inline script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient

from mesoclinic.web.templating import TEMPLATES_DIR
from support import csrf_from

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_templates_hold_no_inline_script_or_event_handler() -> None:
    for path in Path(TEMPLATES_DIR).rglob("*.html"):
        text = path.read_text()
        assert not INLINE_SCRIPT.search(text), path
        assert not INLINE_HANDLER.search(text), path


def _assert_hardened(r: Any) -> None:
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert r.headers["x-frame-options"] == "DENY"


def test_pages_and_api_are_hardened_and_never_cached(world: Any) -> None:
    web = world.web("reception")
    api = world.client("reception")
    for r in (
        web.get("/"),
        web.get("/patients"),
        web.get(f"/patients/{world.patient_a.id}"),
        api.get(f"/api/v1/patients/{world.patient_a.id}"),
        api.get("/api/v1/patients/not-a-uuid"),
        web.get("/no-such-page"),
    ):
        _assert_hardened(r)
        assert r.headers["cache-control"] == "no-store", r.url
        assert r.headers["strict-transport-security"].startswith("max-age="), r.url


def test_static_files_and_healthz_may_be_cached(anon: TestClient) -> None:
    for url in ("/static/app.css", "/healthz"):
        r = anon.get(url)
        assert r.status_code == 200
        assert "no-store" not in r.headers.get("cache-control", ""), url
        assert r.headers["x-content-type-options"] == "nosniff"


def test_hsts_only_over_tls(app: Any) -> None:
    plain = TestClient(app, base_url="http://testserver")
    r = plain.get("/login")
    assert "strict-transport-security" not in r.headers
    _assert_hardened(r)


def test_the_flash_cookie_is_secure_and_names_no_patient(world: Any) -> None:
    web = world.web("reception")
    token = csrf_from(web.get("/patients/new").text)
    r = web.post(
        "/patients/new",
        data={
            "csrf_token": token,
            "given_name": "Zerelda",
            "family_name": "Quixworth",
            "birth_date": "1991-07-08",
            "sex": "female",
        },
    )
    assert r.status_code == 303
    cookies = r.headers.get_list("set-cookie")
    flash = next(c for c in cookies if c.startswith("mc_flash="))
    assert "secure" in flash.lower()
    message = unquote(flash.split(";", 1)[0])
    assert "Zerelda" not in message and "Quixworth" not in message
    assert "MC-" not in message
