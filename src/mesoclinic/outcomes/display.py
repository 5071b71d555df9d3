"""How measurements are shown: grouped by site then kind, with provenance in plain words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mesoclinic.db import RecordStatus
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import (
    Measurement,
    MeasurementSite,
    MeasurementSource,
    MeasurementStatus,
)


@dataclass
class KindGroup:
    code: str
    label: str
    unit: str
    rows: list[Measurement] = field(default_factory=list)


@dataclass
class SiteGroup:
    site: MeasurementSite | None  # None: values not taken at a scalp site
    title: str
    kinds: list[KindGroup] = field(default_factory=list)


def provenance(m: Measurement, names: dict[str, str]) -> str:
    """Where a value came from: "entered by Dr Claire Moreau", "device: TrichoScan"..."""
    if m.source is MeasurementSource.DEVICE:
        return f"device: {m.device_name}"
    if m.source is MeasurementSource.IMAGE_ANALYSIS:
        return f"image analysis {m.algorithm_version}"
    return f"entered by {names.get(m.recorded_by, m.recorded_by)}"


def state(m: Measurement) -> str:
    """current, corrected (a correction), superseded (corrected later) or entered in error."""
    if m.status is MeasurementStatus.ENTERED_IN_ERROR:
        return "entered in error"
    if m.superseded_at is not None:
        return "superseded"
    if m.status is MeasurementStatus.CORRECTED:
        return "correction"
    return "current"


def _site_title(site: MeasurementSite) -> str:
    title = site.label
    if site.status is not RecordStatus.ACTIVE:
        title += " (entered in error)"
    return title


def group_measurements(
    rows: Iterable[Measurement], sites: Sequence[MeasurementSite], book: KindBook
) -> list[SiteGroup]:
    """Sites in the given order (then values without a site), each with its kinds in rulebook
    order; rows keep their order (newest first)."""
    groups: dict[uuid.UUID | None, SiteGroup] = {s.id: SiteGroup(s, _site_title(s)) for s in sites}
    kinds: dict[tuple[uuid.UUID | None, str], KindGroup] = {}
    for m in rows:
        group = groups.get(m.site_id)
        if group is None:
            group = groups.setdefault(None, SiteGroup(None, "Not at a scalp site"))
        key = (group.site.id if group.site else None, m.kind)
        if key not in kinds:
            kind = book.get(m.kind)
            kinds[key] = KindGroup(m.kind, label_words(kind.label) if kind else m.kind, m.unit)
            group.kinds.append(kinds[key])
        kinds[key].rows.append(m)
    order = {k.code: i for i, k in enumerate(book.kinds)}
    for group in groups.values():
        group.kinds.sort(key=lambda k: order.get(k.code, len(order)))
    return list(groups.values())


def label_words(label: str) -> str:
    """A rulebook label as a reader sees it ("per cm2" -> "per cm²", ">= 40 um" -> "≥ 40 µm")."""
    label = re.sub(r"\bcm2\b", "cm²", label)
    label = re.sub(r"\bum\b", "µm", label)
    return label.replace(">=", "≥").replace("<=", "≤").replace(" .. ", " to ")


def number(value: float) -> str:
    """A measured value to the precision it carries: whole numbers bare, one decimal from 10
    up (285.073 -> "285.1"), two below (1.217 -> "1.22"); an analysis gives many more digits
    than the method resolves."""
    return f"{round(value, 1 if abs(value) >= 10 else 2):g}"


AREA_COUNTED = {"follicular_unit_density": "units"}  # what a "/cm2" kind counts, when not hairs


def unit_words(unit: str, kind: str | None = None) -> str:
    """A UCUM unit as a reader sees it: "{hairs}" -> "hairs", "/cm2" -> "hairs/cm²" (or
    "units/cm²" for follicular units), "um" -> "µm"."""
    if unit == "1":
        return ""
    words = unit.strip("{}").replace("cm2", "cm²").replace("um", "µm")
    if words.startswith("/"):
        words = AREA_COUNTED.get(kind or "", "hairs") + words
    return words


def shown(m: Measurement, book: KindBook) -> str:
    """A value as a reader sees it: "142.5 hairs/cm²", "+2" on the -3..+3 scale, "7 of 10"."""
    kind = book.get(m.kind)
    if m.unit == "{score}" and kind is not None:
        if kind.min < 0:
            return f"{m.value:+g}" if m.value else "0"
        return f"{m.value:g} of {kind.max:g}"
    return f"{number(m.value)} {unit_words(m.unit, m.kind)}".strip()
