"""Every unsafe web form is sent once (issue 16, item 6): each posted form in the templates
carries a one-time `form_token`, and each page POST that saves claims it through
`web.forms.submit_form`, or is one of the few listed here with the reason a second post stores
nothing more."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from drills.drill_world import routes
from mesoclinic.analytics.models import SavedCohort
from support import csrf_from

SRC = Path(__file__).resolve().parents[2] / "src" / "mesoclinic"
FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)
# Posted forms without a one-time token, and why a second post stores nothing more.
TEMPLATES_WITHOUT_TOKEN: set[tuple[str, str]] = set()
# Page POSTs that do not go through submit_form, and why posting twice stores nothing more.
PAGE_POSTS_WITHOUT_CLAIM = {
    "/login": "signs in; no record",
    "/logout": "ends the session",
    "/patients/{patient_id}/aftercare/email": "sets a yes/no preference to the posted value",
    "/patients/{patient_id}/aftercare/events/{event_id}/void": "a voided event is not voided again",
    "/patients/{patient_id}/history/{kind}/{item_id}/void": "a voided entry is not voided again",
    "/clinic-calendar/closures/{closure_id}/delete": "a reopened day is a 404 the second time",
    "/admin/users/{user_id}/end-sessions": "ends whatever sessions are left",
}


def test_every_posted_form_in_the_templates_carries_a_form_token():
    missing = []
    for template in sorted((SRC / "web" / "templates").rglob("*.html")):
        name = str(template.relative_to(SRC / "web" / "templates"))
        for form in FORM.finditer(template.read_text()):
            if 'method="post"' not in form["attrs"].lower():
                continue
            action = re.search(r'action="([^"]*)"', form["attrs"])
            key = (name, action.group(1) if action else "")
            if "form_token" not in form["body"] and key not in TEMPLATES_WITHOUT_TOKEN:
                missing.append(key)
    assert missing == []


def _claims(function: ast.FunctionDef | ast.ClassDef, helpers: dict[str, Any]) -> bool:
    """Whether the handler, or a module-level function or class it names, calls submit_form."""
    names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(function) if isinstance(n, ast.Attribute)}
    if "submit_form" in names:
        return True
    return any(_claims(helpers[n], helpers) for n in names & helpers.keys() if n != function.name)


def test_every_page_post_claims_its_form_token_or_is_listed(app):
    page_posts = {
        r.path: r.endpoint
        for r in routes(app)
        if "POST" in r.methods and not r.path.startswith(("/api/", "/fhir"))
    }
    unclaimed = set()
    for path, endpoint in page_posts.items():
        module = ast.parse(Path(endpoint.__code__.co_filename).read_text())
        helpers = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        if not _claims(helpers[endpoint.__name__], helpers):
            unclaimed.add(path)
    assert unclaimed == set(PAGE_POSTS_WITHOUT_CLAIM)


def test_the_cohort_form_posted_twice_saves_one_cohort(world):
    web = world.web("clinician")
    page = web.get("/analytics").text
    data = {
        "csrf_token": csrf_from(page),
        "form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1),
        "name": "Twice",
        "prp": "no",
    }
    first = web.post("/analytics/cohorts", data=data)
    second = web.post("/analytics/cohorts", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    # A new form under the taken name is refused in words, and stores nothing.
    fresh = web.get("/analytics").text
    again = {**data, "form_token": re.search(r'name="form_token" value="([^"]+)"', fresh).group(1)}
    third = web.post("/analytics/cohorts", data=again)
    assert third.status_code == 409 and "already exists" in third.text
    with world.db.factory() as s:
        stmt = select(func.count()).select_from(SavedCohort).where(SavedCohort.name == "Twice")
        assert s.execute(stmt).scalar_one() == 1
