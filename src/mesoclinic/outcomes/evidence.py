"""A patient's evidence of change, read once for the Progress tab, the report and the CSV: the
sessions received, each measure's series per site with its baseline, the responder judgement and
the before/after image pairs. Every read is audited by the services it calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus, utcnow
from mesoclinic.errors import InvalidInput
from mesoclinic.outcomes import images, photo_consent, service, sites
from mesoclinic.outcomes.kinds import KindBook
from mesoclinic.outcomes.models import ClinicalImage, ImageKind, Measurement, MeasurementSite
from mesoclinic.outcomes.progress import BaselineRule, Reading, Series, SessionGiven, build_series
from mesoclinic.outcomes.responders import (
    MeasuredSeries,
    ResponderBook,
    ResponderResult,
    evaluate,
)
from mesoclinic.patients import service as patient_service
from mesoclinic.patients.models import Patient
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission
from mesoclinic.visits.models import Visit, VisitStatus

WHOLE_HEAD = "whole-head"


@dataclass(frozen=True)
class KindSeries:
    """One measure at one site: what the charts, tables and the responder rule read."""

    key: str  # "<site id>-<kind>", stable for anchors
    kind: str
    label: str
    unit: str
    site: MeasurementSite | None
    series: Series
    higher_is_better: bool | None

    @property
    def where(self) -> str:
        return f"at {self.site.label}" if self.site else ""

    @property
    def title(self) -> str:
        return f"{self.label} {self.where}".strip()


@dataclass(frozen=True)
class PairSide:
    image: ClinicalImage
    values: list[Measurement]  # measured on this image (image analysis), current only


@dataclass(frozen=True)
class BeforeAfter:
    title: str  # "Vertex photo" or "Trichoscopy at Vertex"
    before: PairSide
    after: PairSide
    sessions_between: tuple[SessionGiven, ...]


@dataclass
class PatientProgress:
    patient: Patient
    visits: Sequence[Visit]
    sessions: list[SessionGiven]
    measurements: Sequence[Measurement]  # current values, newest first
    series: list[KindSeries]
    responder: ResponderResult
    pairs: list[BeforeAfter] = field(default_factory=list)
    photos_allowed: bool = False  # the photo consent in force covers the clinical record


def sessions_of(visits: Sequence[Visit]) -> list[SessionGiven]:
    return [SessionGiven(v.performed_at, v.cocktail.name, v.prp_given) for v in visits]


def completed_visits(session: Session, patient_id: uuid.UUID) -> Sequence[Visit]:
    """The patient's completed sessions, oldest first (callers have checked access)."""
    return (
        session.execute(
            select(Visit)
            .where(Visit.patient_id == patient_id, Visit.status == VisitStatus.COMPLETED)
            .order_by(Visit.performed_at)
        )
        .scalars()
        .all()
    )


class MeasuredValue(Protocol):
    """What a series reads of a measured value: a `Measurement`, or a plain row of its columns
    (the dashboard's review list reads rows, not ORM objects)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def site_id(self) -> uuid.UUID | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def measured_at(self) -> datetime: ...
    @property
    def value(self) -> float: ...
    @property
    def source(self) -> str: ...
    @property
    def unit(self) -> str: ...


def build_kind_series(
    rows: Sequence[MeasuredValue],
    marked: Sequence[MeasurementSite],
    sessions: list[SessionGiven],
    book: KindBook,
    rule: BaselineRule,
) -> list[KindSeries]:
    """Current values grouped by site and kind: active sites in their order, then whole-head."""
    by_site = {s.id: s for s in marked if s.status is RecordStatus.ACTIVE}
    grouped: dict[tuple[uuid.UUID | None, str], list[MeasuredValue]] = {}
    for m in rows:
        if m.site_id is not None and m.site_id not in by_site:
            continue  # a site entered in error: its values are not compared with anything
        grouped.setdefault((m.site_id, m.kind), []).append(m)
    order = {k.code: i for i, k in enumerate(book.kinds)}
    site_order = {s: i for i, s in enumerate(by_site)}
    out = []
    for (site_id, kind_code), values in sorted(
        grouped.items(),
        key=lambda item: (
            site_order.get(item[0][0], len(site_order)) if item[0][0] else len(site_order),
            order.get(item[0][1], len(order)),
        ),
    ):
        kind = book.get(kind_code)
        readings = [Reading(str(m.id), m.measured_at, m.value, str(m.source)) for m in values]
        out.append(
            KindSeries(
                key=f"{site_id or WHOLE_HEAD}-{kind_code}",
                kind=kind_code,
                label=kind.label if kind else kind_code,
                unit=values[0].unit,
                site=by_site.get(site_id) if site_id else None,
                series=build_series(kind_code, readings, sessions, rule),
                higher_is_better=kind.higher_is_better if kind else None,
            )
        )
    return out


def _pairs(
    session: Session,
    stored: Sequence[ClinicalImage],
    sessions: list[SessionGiven],
    photos_allowed: bool,
) -> list[BeforeAfter]:
    """Per photo view and per trichoscopy site: the first image against the latest."""
    groups: dict[tuple[str, str], list[ClinicalImage]] = {}
    for image in sorted(stored, key=lambda i: i.taken_at):
        if image.status is not RecordStatus.ACTIVE:
            continue
        if image.kind is ImageKind.PHOTO:
            if not photos_allowed or image.view is None:
                continue
            groups.setdefault(("photo", str(image.view)), []).append(image)
        elif image.site is not None and image.site.status is RecordStatus.ACTIVE:
            groups.setdefault(("trichoscopy", str(image.site_id)), []).append(image)
    ids = [i.id for group in groups.values() for i in (group[0], group[-1])]
    values: dict[uuid.UUID, list[Measurement]] = {}
    if ids:
        for m in session.execute(
            select(Measurement)
            .where(
                Measurement.image_id.in_(ids),
                Measurement.status != "entered-in-error",
                Measurement.superseded_at.is_(None),
                Measurement.kind.in_(("density_total", "hair_count", "mean_shaft_diameter")),
            )
            .order_by(Measurement.kind)
        ).scalars():
            values.setdefault(m.image_id, []).append(m)  # type: ignore[arg-type]
    out = []
    for (kind, _), group in groups.items():
        before, after = group[0], group[-1]
        if before.id == after.id:
            continue
        check_pair(before, after)
        title = (
            f"{str(before.view).replace('-', ' ').capitalize()} photo"
            if kind == "photo"
            else f"Trichoscopy at {before.site.label if before.site else 'site'}"
        )
        between = tuple(s for s in sessions if before.taken_at < s.performed_at <= after.taken_at)
        out.append(
            BeforeAfter(
                title,
                PairSide(before, values.get(before.id, [])),
                PairSide(after, values.get(after.id, [])),
                between,
            )
        )
    return out


def check_pair(before: ClinicalImage, after: ClinicalImage) -> None:
    """Only like with like: the same patient, kind, and view (photos) or site (trichoscopy)."""
    if before.patient_id != after.patient_id:
        raise InvalidInput("Both images must be of the same patient", "after")
    if before.kind is not after.kind:
        raise InvalidInput("A photo cannot be compared with a trichoscopy image", "after")
    if before.kind is ImageKind.PHOTO and before.view != after.view:
        raise InvalidInput("Photos of different views cannot be compared", "after")
    if before.kind is ImageKind.TRICHOSCOPY and before.site_id != after.site_id:
        raise InvalidInput("Trichoscopy images of different sites cannot be compared", "after")


def patient_progress(
    session: Session,
    actor: Actor,
    patient_id: uuid.UUID,
    book: KindBook,
    rules: ResponderBook,
    baseline: BaselineRule = BaselineRule.LAST_BEFORE_FIRST_SESSION,
    now: datetime | None = None,
    with_images: bool = True,
) -> PatientProgress:
    """Everything the Progress tab and the report show, read with the viewer's rights."""
    patient = patient_service.load(session, actor, patient_id, Permission.OUTCOME_READ)
    visits = completed_visits(session, patient.id)
    sessions = sessions_of(visits)
    rows = service.list_for(session, actor, patient.id)
    marked = sites.list_for(session, actor, patient.id)
    series = build_kind_series(rows, marked, sessions, book, baseline)
    measured = [MeasuredSeries(s.series, s.label, s.where) for s in series]
    first = sessions[0].performed_at if sessions else None
    judged = evaluate(rules, measured, len(sessions), first, now or utcnow())
    allowed = "clinical_record" in photo_consent.scopes(session, patient.id)
    pairs = []
    if with_images:
        stored = images.list_for(session, actor, patient.id, include_voided=False)
        pairs = _pairs(session, stored, sessions, allowed)
    return PatientProgress(patient, visits, sessions, rows, series, judged, pairs, allowed)
