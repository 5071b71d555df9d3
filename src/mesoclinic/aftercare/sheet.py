"""The per-visit instruction sheet: one Jinja2 template, shown as HTML and printed as PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mesoclinic.aftercare.rules import PrecautionWindow
from mesoclinic.patients.models import Patient
from mesoclinic.web.templating import templates

PRINT_TEMPLATE = "aftercare/instructions_print.html"


def sheet_context(
    patient: Patient,
    clinic_name: str,
    performed_at: datetime,
    tz: str,
    windows: list[PrecautionWindow],
) -> dict[str, Any]:
    """What the sheet shows; times are formatted in the clinic's zone."""
    zone = ZoneInfo(tz)

    def fmt(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M")

    before = [w for w in windows if w.starts_at < performed_at]
    after = [w for w in windows if w.ends_at > performed_at]
    return {
        "sheet_patient": patient,
        "clinic_name": clinic_name,
        "timezone": tz,
        "performed": fmt(performed_at),
        "before": before,
        "after": after,
        "fmt": fmt,
    }


def render_pdf(context: dict[str, Any]) -> bytes:
    """The same sheet as a PDF (WeasyPrint needs Pango; see docs/aftercare.md)."""
    from weasyprint import HTML  # imported late: it loads the system's Pango libraries

    html = templates.env.get_template(PRINT_TEMPLATE).render(context)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
