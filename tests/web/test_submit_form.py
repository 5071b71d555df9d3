"""The one way a page answers a posted form: save and redirect, or show the form with errors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.errors import Conflict
from mesoclinic.security.models import Clinic
from mesoclinic.web.forms import submit_form
from mesoclinic.web.templating import redirect


def _clinic_names(session: Session) -> set[str]:
    return set(session.scalars(select(Clinic.name)))


def _show_form(shown: list[dict[str, str]]) -> Callable[[dict[str, str]], Response]:
    def show(errors: dict[str, str]) -> Response:
        shown.append(errors)
        return Response("form", status_code=422)

    return show


def test_valid_data_is_saved_and_its_redirect_answered(session: Session) -> None:
    shown: list[dict[str, str]] = []

    def save(name: str) -> Response:
        session.add(Clinic(name=name))
        return redirect("/done", "Saved.")

    answer = submit_form(session, "Clinic S", {}, save, _show_form(shown))

    assert answer.status_code == 303 and answer.headers["location"] == "/done"
    assert shown == []
    assert "Clinic S" in _clinic_names(session)


def test_a_refusal_undoes_the_writes_and_shows_the_error_against_its_field(
    session: Session,
) -> None:
    session.add(Clinic(name="Kept"))
    session.flush()
    shown: list[dict[str, str]] = []

    def save(name: str) -> Response:
        session.add(Clinic(name=name))
        session.flush()
        raise Conflict("That name is taken", field="name")

    answer = submit_form(session, "Undone", {}, save, _show_form(shown))

    assert answer.status_code == 422
    assert shown == [{"name": "That name is taken"}]
    assert _clinic_names(session) >= {"Kept"} and "Undone" not in _clinic_names(session)


def test_invalid_data_shows_the_form_without_saving(session: Session) -> None:
    shown: list[dict[str, str]] = []

    def save(name: str) -> Response:
        raise AssertionError("save must not run for invalid data")

    answer = submit_form(session, None, {"name": "Required"}, save, _show_form(shown))

    assert answer.status_code == 422
    assert shown == [{"name": "Required"}]
