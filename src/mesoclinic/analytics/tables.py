"""Every table of the analytics page as CSV rows: the same aggregates the page shows, a
suppressed cell written as "<5". No column can hold a patient's identity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from mesoclinic.analytics import comparison, safety, service
from mesoclinic.analytics.schemas import Interval, RateRow, TimePointRow
from mesoclinic.errors import InvalidInput, NotFound
from mesoclinic.security.actor import Actor

HIDDEN = "<5"
Rows = tuple[list[str], list[list[Any]]]


def cell(row: Any, name: str, digits: int = 2) -> Any:
    """A figure for the CSV: '<5' when suppressed, blank when there is none."""
    if name in getattr(row, "suppressed", ()):
        return HIDDEN
    value = getattr(row, name)
    if value is None:
        return ""
    if isinstance(value, Interval):
        return f"{value.low:.{digits}f} to {value.high:.{digits}f}"
    if isinstance(value, float):
        return round(value, digits)
    return value


TIME_POINT_COLUMNS = (
    "time_point", "cohort", "measured", "n", "mean_change", "mean_change_ci", "percent_change",
    "median_change", "q1_change", "q3_change", "responders", "responder_rate", "responder_ci",
    "dropped_out", "not_yet_due", "no_value",
)  # fmt: skip
RATE_COLUMNS = ("name", "patients", "exposures", "events", "rate", "ci", "flagged", "flag_reason")


def _time_points(rows: Sequence[TimePointRow], grouped: bool = False) -> Rows:
    columns = (("group",) if grouped else ()) + TIME_POINT_COLUMNS
    return list(columns), [[cell(r, c) for c in columns] for r in rows]


def _rates(rows: Sequence[RateRow], lots: bool = False) -> Rows:
    columns = (("product",) if lots else ()) + RATE_COLUMNS
    return list(columns), [[cell(r, c, 4) for c in columns] for r in rows]


def build(
    table: str,
    session: Session,
    actor: Actor,
    *,
    source: dict[str, Any],
    kind: str,
    point: str,
    params: QueryParams,
    **books: Any,
) -> Rows:
    """The header and rows of one named table; an unknown table is a 404."""
    makers: dict[str, Callable[[], Rows]] = {
        "summary": lambda: _time_points(
            service.summary(session, actor, kind=kind, **source, **_outcome(books)).time_points
        ),
        "comparison": lambda: _comparison(session, actor, params, kind, point, books),
        "by-cocktail": lambda: _time_points(_safety().outcome_by_cocktail.rows, grouped=True),
        "by-protocol": lambda: _time_points(_safety().outcome_by_protocol.rows, grouped=True),
        "products": lambda: _rates(_safety().products),
        "lots": lambda: _rates(_safety().lots, lots=True),
        "techniques": lambda: _rates(_safety().techniques),
        "clinicians": lambda: _rates(_safety().clinicians),
        "stages": lambda: _stages(session, actor, source, kind, point, books),
        "rules": lambda: _rules(session, actor, source, kind, point, books),
    }

    def _safety() -> Any:
        return safety.lots(session, actor, kind=kind, point=point, **source, **_outcome(books))

    if table not in makers:
        raise NotFound(f"No table called {table}")
    return makers[table]()


def _outcome(books: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in books.items() if k in ("kinds", "responders")}


def _comparison(
    session: Session, actor: Actor, params: QueryParams, kind: str, point: str, books: Any
) -> Rows:
    a, b = params.get("compare_a"), params.get("compare_b")
    if not a or not b:
        raise InvalidInput("Choose two saved cohorts to compare", "compare_b")
    result = comparison.compare(
        session, actor, a=(a, None), b=(b, None), kind=kind, point=point, **_outcome(books)
    )
    header = ["method", "difference", "ci", "p_value", "n_a", "n_b", "note"]
    rows = [[r.label, *(cell(r, c, 4) for c in header[1:])] for r in result.rows]
    rows.append(["caveat", "", "", "", "", "", result.caveat])
    return header, rows


def _stages(
    session: Session, actor: Actor, source: dict[str, Any], kind: str, point: str, books: Any
) -> Rows:
    report = safety.by_stage(session, actor, kind=kind, point=point, **source, **books)
    columns = ("diagnosis", "stage", "n", "mean_change", "mean_change_ci", "responders",
               "responder_rate", "responder_ci")  # fmt: skip
    return list(columns), [[cell(r, c) for c in columns] for r in report.stages]


def _rules(
    session: Session, actor: Actor, source: dict[str, Any], kind: str, point: str, books: Any
) -> Rows:
    report = safety.by_stage(session, actor, kind=kind, point=point, **source, **books)
    columns = ("rule_id", "outcome", "n", "responders", "responder_rate", "responder_ci", "source")
    return list(columns), [[cell(r, c) for c in columns] for r in report.rules]
