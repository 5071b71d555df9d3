"""The analytics page: a cohort builder, the summary with its chart, a comparison of two saved
cohorts with the caveat, products and lots (flagged lots highlighted), response by stage, and
a CSV download of every table. Aggregates only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from mesoclinic.analytics import comparison, safety, service, tables
from mesoclinic.analytics.area import AnalyticsPermission
from mesoclinic.analytics.cohorts import AGE_BANDS, FOLLOW_UPS, CohortFilter
from mesoclinic.analytics.flows import Rulebooks, rulebooks
from mesoclinic.analytics.schemas import CohortCreate, CohortSummary
from mesoclinic.assessment.rulebook import get_rulebook
from mesoclinic.assessment.staging import DIAGNOSES
from mesoclinic.errors import DomainError, InvalidInput, NotFound
from mesoclinic.outcomes.charts import ChangeChartInput, CohortSeries, change_chart
from mesoclinic.security.actor import Actor
from mesoclinic.security.deps import Allowed, DbSession, SettingsDep
from mesoclinic.web.forms import PostedForm, form_values, submit_form
from mesoclinic.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Actor, Allowed(AnalyticsPermission.VIEW)]
LISTS = ("diagnosis", "stage", "age_band", "protocol", "cocktail", "clinic")
SINGLE = ("sex", "started_from", "started_to")
SUMMARY_KINDS = ("density_total", "density_terminal", "mean_shaft_diameter", "comb_count_60s")


def filter_from(params: QueryParams) -> tuple[CohortFilter, dict[str, str], dict[str, Any]]:
    """The builder's fields as a filter, the fields' errors in words, and the values to show."""
    values: dict[str, Any] = {k: [v for v in params.getlist(k) if v] for k in LISTS}
    values |= {k: params.get(k) or None for k in SINGLE}
    prp = params.get("prp") or ""
    values["prp"] = {"yes": True, "no": False}.get(prp)
    try:
        return CohortFilter.model_validate(values), {}, values | {"prp": prp}
    except ValidationError as exc:
        errors = {
            str(e["loc"][0]) if e["loc"] else "__all__": e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        }
        return CohortFilter(), errors, values | {"prp": prp}


def _choice(params: QueryParams, name: str, allowed: Sequence[str], default: str) -> str:
    value = params.get(name) or default
    return value if value in allowed else default


def _chart(summaries: Iterable[CohortSummary], unit: str) -> str:
    series = [
        CohortSeries(
            s.cohort if s.cohort != service.CUSTOM else "This cohort",
            [(0.0, 0.0, None, None)]
            + [
                (
                    next(p.months for p in FOLLOW_UPS if p.key == r.time_point),
                    r.mean_change,
                    r.mean_change_ci.low if r.mean_change_ci else None,
                    r.mean_change_ci.high if r.mean_change_ci else None,
                )
                for r in s.time_points
                if r.time_point != "baseline" and r.mean_change is not None
            ],
        )
        for s in summaries
    ]
    series = [s for s in series if len(s.points) > 1]
    return change_chart(
        ChangeChartInput("analytics-change", "Mean change from baseline", unit, series)
    )


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(
    request: Request, session: DbSession, actor: Viewer, settings: SettingsDep
) -> Response:
    """Build a cohort and read its outcome, comparison, lots and response by stage."""
    params = request.query_params
    filt, errors, values = filter_from(params)
    books = rulebooks(settings)
    kind = _choice(params, "kind", SUMMARY_KINDS, service.DEFAULT_KIND)
    point = _choice(params, "time_point", [p.key for p in FOLLOW_UPS], "6m")
    saved = service.list_cohorts(session, actor)
    chosen = params.get("cohort") or None
    source = {"cohort": chosen} if chosen else {"filt": filt}
    ctx: dict[str, Any] = {
        "values": values,
        "errors": errors,
        "saved": saved,
        "kind": kind,
        "kinds": [(k, found.label) for k in SUMMARY_KINDS if (found := books["kinds"].get(k))],
        "time_point": point,
        "follow_ups": FOLLOW_UPS,
        "diagnoses": DIAGNOSES,
        "age_bands": list(AGE_BANDS),
        "choices": service.builder_choices(session, actor),
        "query": str(params),
        "chosen": chosen,
        "compare_a": params.get("compare_a") or "",
        "compare_b": params.get("compare_b") or "",
    }
    try:
        summary = service.summary(session, actor, kind=kind, **source, **books)
        ctx["summary"] = summary
        ctx["safety"] = safety.lots(session, actor, kind=kind, point=point, **source, **books)
        ctx["stages"] = safety.by_stage(
            session, actor, kind=kind, point=point, rulebook=get_rulebook(settings.rulebook),
            **source, **books,
        )  # fmt: skip
        compared = _comparison(session, actor, params, kind, point, books)
        ctx["comparison"] = compared
        ctx["chart"] = _chart(compared[1] if compared else [summary], summary.unit)
    except NotFound as exc:
        errors["cohort"] = exc.message
    return render(request, "analytics/index.html", ctx)


def _comparison(
    session: Session,
    actor: Actor,
    params: QueryParams,
    kind: str,
    point: str,
    books: Rulebooks,
) -> tuple[Any, list[CohortSummary]] | None:
    a, b = params.get("compare_a"), params.get("compare_b")
    if not a or not b:
        return None
    result = comparison.compare(
        session, actor, a=(a, None), b=(b, None), kind=kind, point=point, **books
    )
    sides = [service.summary(session, actor, cohort=name, kind=kind, **books) for name in (a, b)]
    return result, sides


@router.post("/analytics/cohorts", response_class=HTMLResponse)
def save_cohort(request: Request, form: PostedForm, session: DbSession, actor: Viewer) -> Response:
    """Save the builder's filter under a name, then show that cohort (the same form sent twice
    saves it once: its one-time token)."""
    posted = form_values(form, lists=LISTS)
    name = str(posted.pop("name", "") or "")
    params = QueryParams([(k, v) for k, vs in _pairs(posted) for v in vs])
    filt, errors, _ = filter_from(params)
    data: CohortCreate | None = None
    if not errors:
        try:
            data = CohortCreate(name=name, filter=filt)
        except ValidationError:
            errors = {"name": "Give the cohort a name (up to 80 characters)"}
    refused: list[DomainError] = []

    def save(cohort: CohortCreate) -> Response:
        try:
            service.create_cohort(session, actor, cohort)
        except DomainError as error:
            refused.append(error)  # a taken name stays a 409 with its message
            raise
        return redirect(f"/analytics?{QueryParams({'cohort': name})}", "Cohort saved")

    def refuse(found: dict[str, str]) -> Response:
        if refused:
            raise refused[0]
        field, message = next(iter(found.items()))
        if field == "name":
            raise InvalidInput(message, field)
        raise InvalidInput(f"The cohort was not saved: {field}: {message}", field)

    return submit_form(session, data, errors, save, refuse)


def _pairs(posted: dict[str, Any]) -> Iterable[tuple[str, list[str]]]:
    for key, value in posted.items():
        yield key, [str(v) for v in value] if isinstance(value, list) else [str(value)]


@router.get("/analytics/export/{table}.csv")
def export_csv(
    table: str, request: Request, session: DbSession, actor: Viewer, settings: SettingsDep
) -> Response:
    """One table of the page as CSV: the same figures, small cells blank and marked."""
    params = request.query_params
    filt, errors, _ = filter_from(params)
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {message}", field)
    books = rulebooks(settings)
    kind = _choice(params, "kind", SUMMARY_KINDS, service.DEFAULT_KIND)
    point = _choice(params, "time_point", [p.key for p in FOLLOW_UPS], "6m")
    chosen = params.get("cohort") or None
    source: dict[str, Any] = {"cohort": chosen} if chosen else {"filt": filt}
    header, rows = tables.build(
        table, session, actor, source=source, kind=kind, point=point, params=params,
        rulebook=get_rulebook(settings.rulebook), **books,
    )  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="analytics-{table}.csv"'},
    )
