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
    def _dates_in_range(cls, value: Any) -> Any:
        return _date_in_range(value)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
