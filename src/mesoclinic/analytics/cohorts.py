"""What a cohort is: the filter schema, the clinic scope it runs in, and the time points at
which its outcomes are summarised. Plain values in, plain values out.

Time zero is each patient's first recorded session. A time point takes, per patient and site,
the measurement nearest its target day inside its window; the baseline window reaches back two
months before the first session and a week after it, so a baseline taken at the screening visit
or on the day counts. The windows are the clinic defaults documented in
docs/clinical-sources.md#analytics-time-points (+-1 month around 3 and 6 months, +-6 weeks
around 12 months, after the follow-up schedules of the protocols there).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from mesoclinic.assessment.staging import DIAGNOSES
from mesoclinic.errors import InvalidInput
from mesoclinic.schemas_common import DateInRange

DEFAULT_KIND = "density_total"  # the measure a summary shows unless asked for another

TIME_POINT_SOURCE = "docs/clinical-sources.md#analytics-time-points"
SMALL_CELL = 5  # any figure resting on fewer patients than this is suppressed
QUANTILE_KEYS = {"q25": 0.25, "q50": 0.5, "q75": 0.75}


@dataclass(frozen=True)
class TimePoint:
    key: str  # "baseline", "3m", "6m", "12m"
    label: str
    months: float  # for the responder rule's "not before N months"
    target_day: int  # days after the first session
    window_before: int  # days
    window_after: int


TIME_POINTS: tuple[TimePoint, ...] = (
    TimePoint("baseline", "Baseline", 0, 0, 60, 7),
    TimePoint("3m", "3 months", 3, 91, 30, 30),
    TimePoint("6m", "6 months", 6, 183, 30, 30),
    TimePoint("12m", "12 months", 12, 365, 45, 45),
)
FOLLOW_UPS = TIME_POINTS[1:]


def time_point(key: str) -> TimePoint:
    """The time point with this key; an unknown one is a plain-words 422 naming the field."""
    for point in TIME_POINTS:
        if point.key == key:
            return point
    keys = ", ".join(p.key for p in FOLLOW_UPS)
    raise InvalidInput(f"Choose a time point: {keys}", "time_point")


AgeBand = Literal["18-29", "30-39", "40-49", "50-59", "60+"]
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "18-29": (18, 29),
    "30-39": (30, 39),
    "40-49": (40, 49),
    "50-59": (50, 59),
    "60+": (60, None),
}
Code = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
StageCode = Annotated[
    str, StringConstraints(pattern=r"^(norwood_hamilton|ludwig|sinclair|salt):[A-Za-z0-9.-]{1,12}$")
]


class CohortFilter(BaseModel):
    """Who is in a cohort. Every list means "any of these"; an empty list or None: no limit.

    `stage` entries are "scale:grade" (e.g. "norwood_hamilton:III"); diagnosis and stage come
    from the patient's latest assessment; `cocktail` matches any session given with that
    cocktail; `prp` true keeps patients who had PRP at any session, false those who never did;
    `started_from`/`started_to` bound the date of the first session.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    diagnosis: tuple[Literal[DIAGNOSES], ...] = Field(default=(), max_length=10)  # type: ignore[valid-type]
    stage: tuple[StageCode, ...] = Field(default=(), max_length=30)
    sex: Literal["female", "male"] | None = None
    age_band: tuple[AgeBand, ...] = Field(default=(), max_length=5)
    protocol: tuple[Code, ...] = Field(default=(), max_length=20)
    cocktail: tuple[Code, ...] = Field(default=(), max_length=20)
    prp: bool | None = None
    clinic: tuple[uuid.UUID, ...] = Field(default=(), max_length=50)
    started_from: DateInRange | None = None
    started_to: DateInRange | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> CohortFilter:
        if self.started_from and self.started_to and self.started_to < self.started_from:
            raise ValueError("started_to is before started_from")
        return self


@dataclass(frozen=True)
class Scope:
    """The clinics a cohort runs over: None means every clinic of the group."""

    clinics: tuple[uuid.UUID, ...] | None


def scope_for(filt: CohortFilter, *, group_admin: bool, own_clinic: uuid.UUID | None) -> Scope:
    """Group admins choose clinics (none chosen: all); everyone else sees only their clinic,
    whatever the filter asks for."""
    if group_admin:
        return Scope(filt.clinic or None)
    if own_clinic is None:
        raise InvalidInput("Your account belongs to no clinic, so it has no cohort", "clinic")
    return Scope((own_clinic,))


def birth_date_bounds(band: str, today: date) -> tuple[date | None, date]:
    """(born after, born on or before) for an age band in whole years today."""
    youngest, oldest = AGE_BANDS[band]
    latest = _years_before(today, youngest)
    earliest = None if oldest is None else _years_before(today, oldest + 1)
    return earliest, latest


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def filter_words(filt: CohortFilter, clinic_names: dict[uuid.UUID, str]) -> str:
    """The filter in plain words, for page headings, CSV headers and the audit entry."""
    parts = []
    if filt.diagnosis:
        parts.append("diagnosis " + " or ".join(d.replace("_", " ") for d in filt.diagnosis))
    if filt.stage:
        parts.append(
            "stage " + " or ".join(s.replace("_", "-").replace(":", " ") for s in filt.stage)
        )
    if filt.sex:
        parts.append(filt.sex)
    if filt.age_band:
        parts.append("aged " + " or ".join(filt.age_band))
    if filt.protocol:
        parts.append("protocol " + " or ".join(filt.protocol))
    if filt.cocktail:
        parts.append("cocktail " + " or ".join(filt.cocktail))
    if filt.prp is not None:
        parts.append("with PRP" if filt.prp else "without PRP")
    if filt.clinic:
        parts.append(
            "at " + " or ".join(clinic_names.get(c, "another clinic") for c in filt.clinic)
        )
    if filt.started_from or filt.started_to:
        since = filt.started_from.isoformat() if filt.started_from else "the start"
        until = filt.started_to.isoformat() if filt.started_to else "today"
        parts.append(f"first session {since} to {until}")
    return "; ".join(parts) or "all treated patients"


def suppressed(n: int) -> bool:
    """Whether a figure resting on `n` patients must be hidden (fewer than SMALL_CELL)."""
    return 0 < n < SMALL_CELL


def parse_filter(text: str | None, field: str = "filter") -> CohortFilter | None:
    """A filter given as JSON text (API query, CLI option); a bad one is a 422 naming the field
    and, inside it, the key at fault."""
    if text is None or not text.strip():
        return None
    try:
        return CohortFilter.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        name = f"{field}.{where}" if where else field
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "json_invalid":
            message = "is not valid JSON"
        raise InvalidInput(f"{name}: {message}", name) from exc
