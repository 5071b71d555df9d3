"""The recall report: who received a lot, as a CSV file a clinic can open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from mesoclinic.formulary.schemas import Recipient

RECIPIENT_COLUMNS = (
    "performed_at",
    "record_number",
    "patient_name",
    "phone",
    "email",
    "volume_ml",
    "visit_status",
    "visit_id",
    "patient_id",
)


def recipients_csv(rows: Iterable[Recipient]) -> str:
    """The recall report as CSV (one row per visit that received the lot)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RECIPIENT_COLUMNS)
    for r in rows:
        values = r.model_dump()
        values["performed_at"] = r.performed_at.isoformat()
        writer.writerow([_safe_cell(values[c]) for c in RECIPIENT_COLUMNS])
    return out.getvalue()


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ would run as a formula when the file is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
