"""Pydantic building blocks shared by every area's API schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator

T = TypeVar("T")

# Every date a person can type is bounded: day arithmetic on 9999-12-31 overflows Python's
# `date`, and no clinical date lies outside these years.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
DATE_RANGE_MESSAGE = f"must be between {EARLIEST_DATE:%d %b %Y} and {LATEST_DATE:%d %b %Y}"


def in_date_range(value: date) -> bool:
    """Whether a typed date (or the date of a time) lies in the years the app accepts."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def _date_in_range(value: Any) -> Any:
    if isinstance(value, date) and not in_date_range(value):
        raise ValueError(DATE_RANGE_MESSAGE)
    return value


# PostgreSQL cannot store NUL in text (a 500 there, and a SQLite backup holding one could not
# be restored into PostgreSQL), so no text input may carry one on either database.
NUL_MESSAGE = "must not contain a NUL character"


def has_nul(value: Any) -> bool:
    """Whether a text value, or any text inside a list or mapping, contains NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


def _no_nul(value: Any) -> Any:
    if has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone (e.g. 2026-05-01T09:30:00+01:00)")
    _date_in_range(value)
    return value.astimezone(UTC)


def _not_future_date(value: date) -> date:
    if value > date.today():
        raise ValueError("cannot be in the future")
    return value


def _not_future_datetime(value: datetime) -> datetime:
    if value > datetime.now(UTC):
        raise ValueError("cannot be in the future")
    return value


# Named apart from pydantic's AwareDatetime/PastDate/PastDatetime: these also convert to UTC
# or compare with the clock, and an import of the wrong one would pass silently.
UtcDatetime = Annotated[datetime, AfterValidator(_aware)]
UtcDatetimeNotInFuture = Annotated[
    datetime, AfterValidator(_aware), AfterValidator(_not_future_datetime)
]
DateNotInFuture = Annotated[date, AfterValidator(_not_future_date)]
# For dates outside a Schema (query parameters); a Schema checks every date field itself.
DateInRange = Annotated[date, AfterValidator(_date_in_range)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
# Why a record was voided, withdrawn, recalled or stopped: one rule everywhere (the strictest of
# the five it replaces, so "dup" or "no" is never the whole audit trail).
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]


class Schema(BaseModel):
    """Input schemas: unknown fields are refused so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _typed_values_in_range(cls, value: Any) -> Any:
        return _no_nul(_date_in_range(value))


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    # True when `total` stopped counting at a cap: there are more matches than it says.
    total_capped: bool = False


class ErrorDetail(BaseModel):
    """What went wrong, in words for people, and the field to fix when there is one."""

    model_config = ConfigDict(extra="allow")  # e.g. `checks`, `retry_after`, `details`

    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    """The one shape of every 4xx answer of the JSON API."""

    error: ErrorDetail


# The client errors any operation may answer, declared once for the whole API (issue 16).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "the request could not be read"),
        (401, "not signed in, or the token is invalid or expired"),
        (403, "the caller's role may not do this"),
        (404, "not found, or outside the caller's clinic or record"),
        (409, "conflicts with the current state (taken, already done, double booking)"),
        (413, "the upload is too large"),
        (422, "invalid input, a refused safety check or warnings to confirm; names the field"),
        (429, "too many failed sign-ins; see Retry-After"),
        (503, "the server is busy and did nothing; try again after Retry-After"),
    )
}
