"""The patient's progress report: one context for the Progress tab, the report page and its PDF
(WeasyPrint, from the same Jinja2 template), the charts for each measure, the plain-language
summary and the measurements as CSV.
"""

from __future__ import annotations

import base64
import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mesoclinic.aftercare import rulebook as aftercare_rulebook
from mesoclinic.config import Settings
from mesoclinic.errors import NotFound
from mesoclinic.outcomes import display, evidence, images
from mesoclinic.outcomes.charts import ChartInput, series_chart
from mesoclinic.outcomes.evidence import KindSeries, PatientProgress
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.models import Measurement
from mesoclinic.outcomes.progress import BaselineRule, error_words, months_between
from mesoclinic.outcomes.responders import ResponderBook, load_responder_rules, threshold_for
from mesoclinic.plans import service as plan_service
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.models import Clinic
from mesoclinic.security.permissions import Permission
from mesoclinic.security.service import clinic_timezone
from mesoclinic.web.templating import templates

REPORT_TEMPLATE = "outcomes/report.html"
CSV_COLUMNS = (
    "measured_at",
    "kind",
    "site",
    "value",
    "unit",
    "source",
    "device_or_algorithm",
    "status",
    "measurement_id",
)


@dataclass(frozen=True)
class Books:
    kinds: KindBook
    responders: ResponderBook
    baseline: BaselineRule


def books(settings: Settings) -> Books:
    return Books(
        load_kinds(settings.measurement_kinds),
        load_responder_rules(settings.responder_rules),
        BaselineRule(settings.progress_baseline),
    )


def load_progress(
    session: Session, actor: Actor, patient_id: uuid.UUID, settings: Settings
) -> PatientProgress:
    b = books(settings)
    return evidence.patient_progress(session, actor, patient_id, b.kinds, b.responders, b.baseline)


def reader_unit(unit: str, kind: str | None = None) -> str:
    """The unit as a patient reads it in the report; scores are plain numbers, so no unit."""
    words = display.unit_words(unit, kind)
    return "" if words == "score" else words


def chart_for(ks: KindSeries, rules: ResponderBook, sessions: list[Any], tz: ZoneInfo) -> str:
    series = ks.series
    base = series.baseline.value if series.baseline else None
    threshold = threshold_for(rules, ks.kind, base)
    unit = reader_unit(ks.unit, ks.kind)
    described = ", ".join(
        f"{p.reading.measured_at.astimezone(tz):%d %b %Y} {p.reading.value:g}"
        for p in series.points
    )
    return series_chart(
        ChartInput(
            chart_id=f"chart-{ks.key}",
            title=ks.title,
            unit=unit,
            points=[(p.reading.measured_at, p.reading.value) for p in series.points],
            sessions=[(s.performed_at, s.prp) for s in sessions],
            baseline=base,
            threshold=threshold[0] if threshold else None,
            threshold_label=threshold[1] if threshold else "",
            description=f"{ks.title} over time, in {unit or 'points'}: {described}.",
        )
    )


def summary_lines(progress: PatientProgress, rules: ResponderBook) -> list[str]:
    """One honest sentence per judged measure: the change, when, and what error could explain."""
    judged = {k for rule in rules.responder for k in rule.kinds}
    lines = []
    for ks in progress.series:
        if ks.kind not in judged:
            continue
        series, unit = ks.series, reader_unit(ks.unit, ks.kind)
        latest = series.latest
        if series.baseline is None:
            lines.append(
                f"{ks.title}: no value was measured before treatment started, so no change "
                "can be given."
            )
        elif latest is None or latest.change is None or series.first_session is None:
            lines.append(
                f"{ks.title}: only the starting value so far ({series.baseline.value:g} {unit})."
            )
        else:
            change = latest.change
            months = months_between(series.first_session.performed_at, latest.reading.measured_at)
            pct = (
                f" ({change.percent:+.0f} %)".replace("-", "\u2212")
                if change.percent is not None
                else ""
            )
            lines.append(
                f"{ks.title}: from {series.baseline.value:g} to {latest.reading.value:g} {unit}"
                f"{pct} after {months:.0f} months and {latest.sessions_so_far} sessions "
                f"\u2014 {error_words(change)}."
            )
    return lines


def _embedded(
    session: Session, actor: Actor, image_id: uuid.UUID, settings: Settings
) -> str | None:
    """The picture inlined for the PDF; None when its file is missing from the store (the report
    still prints, saying so, rather than failing as a whole)."""
    try:
        found = images.file_for_view(session, actor, image_id, settings.images_dir, thumbnail=False)
    except NotFound:
        return None
    data = base64.b64encode(found.path.read_bytes()).decode()
    return f"data:{found.media_type};base64,{data}"


def context(
    session: Session,
    actor: Actor,
    progress: PatientProgress,
    settings: Settings,
    *,
    for_print: bool,
) -> dict[str, Any]:
    """What the tab, the report page and the PDF show."""
    b = books(settings)
    patient = progress.patient
    tz_name = clinic_timezone(session, patient.clinic_id)
    tz = ZoneInfo(tz_name)
    plans = (
        plan_service.list_for_patient(session, actor, patient.id)
        if actor.can(Permission.PLAN_READ)
        else []
    )
    image_src: dict[uuid.UUID, str | None] = {}
    for pair in progress.pairs:
        for side in (pair.before, pair.after):
            image_src[side.image.id] = (
                _embedded(session, actor, side.image.id, settings)
                if for_print
                else f"/api/v1/images/{side.image.id}/file"
            )
    events = [(v, e) for v in progress.visits for e in v.adverse_events if e.type != "none"]
    return {
        "progress": progress,
        "report_patient": patient,
        "clinic_name": clinic.name if (clinic := session.get(Clinic, patient.clinic_id)) else "",
        "tz": tz,
        "generated": datetime.now(tz),
        "plans": plans,
        "charts": {
            ks.key: chart_for(ks, b.responders, progress.sessions, tz) for ks in progress.series
        },
        "summary": summary_lines(progress, b.responders),
        "responder": progress.responder,
        "image_src": image_src,
        "adverse_events": events,
        "aftercare": [
            p
            for p in aftercare_rulebook.load(settings.aftercare_rulebook).precautions
            if p.relation != "before"
        ],
        "shown": lambda m: display.shown(m, b.kinds),
        "unit_words": reader_unit,
        "kind_label": lambda code: k.label if (k := b.kinds.get(code)) else code,
        "site_label": lambda m: m.site.label if m.site else "whole head",
        "for_print": for_print,
    }


def audit_report(session: Session, actor: Actor, progress: PatientProgress, fmt: str) -> None:
    audit.record(
        session,
        actor,
        "export",
        "progress_report",
        None,
        patient_id=progress.patient.id,
        clinic_id=progress.patient.clinic_id,
        detail={"format": fmt, "responder": str(progress.responder.status)},
    )


def render_html(ctx: dict[str, Any]) -> str:
    return templates.env.get_template(REPORT_TEMPLATE).render(ctx)


def render_pdf(ctx: dict[str, Any]) -> bytes:
    """The same report as a PDF (WeasyPrint needs Pango; see docs/aftercare.md)."""
    from weasyprint import HTML  # imported late: it loads the system's Pango libraries

    pdf: bytes = HTML(string=render_html(ctx)).write_pdf()
    return pdf


def measurements_csv(rows: list[Measurement] | Any, book: KindBook) -> str:
    """The patient's current values, oldest first, one row each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in sorted(rows, key=lambda m: m.measured_at):
        writer.writerow(
            [
                m.measured_at.isoformat(),
                m.kind,
                m.site.label if m.site else "",
                f"{m.value:g}",
                m.unit,
                str(m.source),
                m.device_name or m.algorithm_version or "",
                str(m.status),
                str(m.id),
            ]
        )
    return out.getvalue()
