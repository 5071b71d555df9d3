"""`mesoclinic analytics`: a cohort's outcome summary (`--compare OTHER` for a comparison),
`analytics lots` (adverse events per product and lot, flagged lots) and `analytics cohorts`.

Run on the server as the group admin (every clinic, unless the filter names clinics); every
run is audited like a page view. Aggregates only, small cells hidden as on the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.table import Table
from sqlalchemy.orm import Session

from mesoclinic.analytics.cohorts import DEFAULT_KIND, CohortFilter, parse_filter
from mesoclinic.analytics.flows import Rulebooks, rulebooks
from mesoclinic.analytics.schemas import CohortSummary, SafetyReport
from mesoclinic.command import console, fail, open_database
from mesoclinic.db import read_unit_of_work, unit_of_work
from mesoclinic.errors import DomainError
from mesoclinic.security.actor import cli_actor

app = typer.Typer(help="Cohort analytics: outcome summaries, comparisons, lot safety.")

CohortOption = Annotated[str | None, typer.Option("--cohort", help="a saved cohort's name")]
FilterOption = Annotated[
    str | None, typer.Option("--filter", help='a cohort filter as JSON, e.g. {"prp": true}')
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
KindOption = Annotated[str, typer.Option("--kind", help="the measurement kind")]
PointOption = Annotated[str, typer.Option("--time-point", help="3m, 6m or 12m")]


def _run(work: Callable[[Session, Rulebooks], BaseModel]) -> BaseModel:
    settings, factory = open_database()
    books = rulebooks(settings)
    try:
        with read_unit_of_work(factory) as session:
            return work(session, books)
    except DomainError as error:
        raise fail(error.message, code=2 if error.status == 422 else 1) from error


def _source(cohort: str | None, filter_json: str | None) -> dict[str, Any]:
    try:
        filt = parse_filter(filter_json)
    except DomainError as error:
        raise fail(error.message, code=2) from error
    return {"cohort": cohort, "filt": filt}


def _shown(value: Any, name: str, hidden: list[str], fmt: str = "{:+.1f}") -> str:
    if name in hidden:
        return "<5"
    if value is None:
        return "-"
    return fmt.format(value) if isinstance(value, float) else str(value)


def _print_summary(result: CohortSummary) -> None:
    table = Table(title=f"{result.cohort}: {result.kind_label} ({result.unit})")
    for column in ("time point", "patients", "n", "mean change", "95 % CI", "median", "responders",
                   "dropped out", "no value", "not yet due"):  # fmt: skip
        table.add_column(column)
    for r in result.time_points:
        ci = (
            f"{r.mean_change_ci.low:+.1f} to {r.mean_change_ci.high:+.1f}"
            if r.mean_change_ci
            else "-"
        )
        rate = None if r.responder_rate is None else r.responder_rate * 100
        table.add_row(
            r.label,
            _shown(r.cohort, "cohort", r.suppressed),
            _shown(r.n, "n", r.suppressed),
            _shown(r.mean_change, "mean_change", r.suppressed),
            ci,
            _shown(r.median_change, "median_change", r.suppressed),
            _shown(rate, "responder_rate", r.suppressed, "{:.0f} %"),
            _shown(r.dropped_out, "dropped_out", r.suppressed),
            _shown(r.no_value, "no_value", r.suppressed),
            _shown(r.not_yet_due, "not_yet_due", r.suppressed),
        )
    console.print(result.description)
    console.print(table)


@app.callback(invoke_without_command=True)
def summary_command(
    ctx: typer.Context,
    cohort: CohortOption = None,
    filter_json: FilterOption = None,
    compare: Annotated[
        str | None, typer.Option("--compare", help="a saved cohort to compare with")
    ] = None,
    kind: KindOption = DEFAULT_KIND,
    time_point: PointOption = "6m",
    as_json: JsonOption = False,
) -> None:
    """A cohort's outcome at baseline, 3, 6 and 12 months (or, with --compare, the comparison)."""
    if ctx.invoked_subcommand is not None:
        return
    from mesoclinic.analytics import comparison, service

    source = _source(cohort, filter_json)
    actor = cli_actor()
    if compare:
        a = (source["cohort"], source["filt"] if source["cohort"] is None else None)
        if a == (None, None):
            a = (None, CohortFilter())
        result = _run(
            lambda s, books: comparison.compare(
                s, actor, a=a, b=(compare, None), kind=kind, point=time_point, **books
            )
        )
        console.print_json(result.model_dump_json()) if as_json else _print_comparison(result)
        return
    found = _run(lambda s, books: service.summary(s, actor, kind=kind, **source, **books))
    assert isinstance(found, CohortSummary)
    if as_json:
        console.print_json(found.model_dump_json())
    else:
        _print_summary(found)


def _print_comparison(result: Any) -> None:
    table = Table(title=f"{result.cohort_b} minus {result.cohort_a} at {result.time_point}")
    for column in ("estimate", "difference", "95 % CI", "p", "note"):
        table.add_column(column)
    for r in result.rows:
        ci = f"{r.ci.low:+.1f} to {r.ci.high:+.1f}" if r.ci else "-"
        diff = "-" if r.difference is None else f"{r.difference:+.1f}"
        p = "-" if r.p_value is None else f"{r.p_value:.3g}"
        table.add_row(r.label, diff, ci, p, r.note)
    console.print(table)
    console.print(result.caveat)


@app.command("lots")
def lots_command(
    cohort: CohortOption = None,
    filter_json: FilterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Adverse events per product and lot with exact CIs; flagged lots marked."""
    from mesoclinic.analytics import safety

    source = _source(cohort, filter_json)
    actor = cli_actor()
    found = _run(lambda s, books: safety.lots(s, actor, **source, **books))
    assert isinstance(found, SafetyReport)
    if as_json:
        console.print_json(found.model_dump_json())
        return
    table = Table(title="Adverse events per lot")
    for column in ("product", "lot", "sessions", "with an event", "rate", "signal"):
        table.add_column(column)
    for r in found.lots:
        rate = "<5" if "rate" in r.suppressed else ("-" if r.rate is None else f"{r.rate:.1%}")
        table.add_row(
            r.product or "",
            r.name,
            _shown(r.exposures, "exposures", r.suppressed),
            _shown(r.events, "events", r.suppressed),
            rate,
            f"FLAGGED: {r.flag_reason}" if r.flagged else "no signal",
        )
    console.print(table)
    console.print(found.signal_method)


@app.command("cohorts")
def cohorts_command(as_json: JsonOption = False) -> None:
    """The saved cohorts and their filters."""
    from mesoclinic.analytics import service

    settings, factory = open_database()
    with read_unit_of_work(factory) as session:
        rows = [
            {"name": c.name, "clinic_id": str(c.clinic_id or ""), "filter": c.filter}
            for c in service.list_cohorts(session, cli_actor())
        ]
    if as_json:
        import json

        console.print_json(json.dumps(rows))
        return
    for row in rows:
        console.print(f"{row['name']}: {row['filter']}")


@app.command("rebuild")
def rebuild_command() -> None:
    """Rebuild every patient's derived analytics rows from the records (one transaction).

    Needed only when the rows' definition changed (the reads derive each cohort per request
    until then); every write keeps them up to date otherwise."""
    from mesoclinic.analytics import service

    _settings, factory = open_database()
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        counts = service.rebuild_rows(session, cli_actor())
    figures = ", ".join(f"{n:,} {table}" for table, n in counts.items())
    console.print(f"Rebuilt {figures} in {time.perf_counter() - started:.1f} s")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="analytics")
