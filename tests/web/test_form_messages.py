"""Form errors are said in plain words, not pydantic's: one translation of error types, with
the schema's own field-specific messages kept."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from mesoclinic.schemas_common import Schema
from mesoclinic.web.forms import validate
from support import csrf_from

PYDANTIC_WORDING = ("String should", "Input should", "Field required", "valid integer", "UUID")


class Sample(Schema):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    count: Annotated[int, Field(ge=1, le=10)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=5)]
    day: date
    kind: Literal["a", "b"]
    wanted: str


def test_each_error_type_is_said_in_plain_words() -> None:
    _, errors = validate(
        Sample, {"code": "123", "count": "x", "name": "toolong", "day": "soon", "kind": "c"}
    )
    assert set(errors) == {"code", "count", "name", "day", "kind", "wanted"}
    for message in errors.values():
        assert not any(words in message for words in PYDANTIC_WORDING), message
    assert errors["wanted"] == "This field is required"
    assert errors["count"] == "Enter a whole number"
    assert errors["name"] == "Use at most 5 characters"
    assert "date" in errors["day"].lower()
    _, errors = validate(Sample, {"code": "AB", "count": "11", "name": "x", "day": "2026-01-01"})
    assert errors["count"] == "Enter 10 or less"


def test_the_schemas_own_message_is_kept(world: Any) -> None:
    web = world.web("reception")
    token = csrf_from(web.get("/patients/new").text)
    r = web.post(
        "/patients/new",
        data={
            "csrf_token": token,
            "given_name": "Maya",
            "family_name": "Lopez",
            "birth_date": "2999-01-01",
            "sex": "female",
            "country": "123",
        },
    )
    assert r.status_code == 422
    assert "cannot be in the future" in r.text
    assert "String should match pattern" not in r.text
    assert "two-letter country code" in r.text
