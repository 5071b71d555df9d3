"""FHIR search parameter values: dates with prefixes and tokens. Pure; a bad value raises
BadParameter naming the parameter (the API answers 400 with an OperationOutcome)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PREFIXES = ("eq", "ne", "ge", "le", "gt", "lt")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadParameter(ValueError):
    """A search parameter FHIR or this server cannot use; `name` is the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class DateRange:
    """One `date` parameter: a prefix and the instant range its value covers [start, end)."""

    prefix: str
    start: datetime
    end: datetime

    def matches(self, when: datetime) -> bool:
        """Whether an instant satisfies the parameter (FHIR search rules for ranges)."""
        match self.prefix:
            case "eq":
                return self.start <= when < self.end
            case "ne":
                return not self.start <= when < self.end
            case "ge":
                return when >= self.start
            case "gt":
                return when >= self.end
            case "le":
                return when < self.end
            case _:  # "lt"
                return when < self.start


def parse_date(name: str, raw: str) -> DateRange:
    """`2026-03-01`, `ge2026-03-01`, `le2026-03-01T10:00:00Z` ... (a day covers the whole day)."""
    prefix, value = (raw[:2], raw[2:]) if raw[:2] in PREFIXES else ("eq", raw)
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return DateRange(prefix, start, start + timedelta(days=1))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadParameter(name, f"{raw!r} is not a date (YYYY-MM-DD) or dateTime") from exc
    if moment.tzinfo is None:
        raise BadParameter(name, f"{raw!r} needs a time zone (Z or +hh:mm)")
    moment = moment.astimezone(UTC)
    return DateRange(prefix, moment, moment + timedelta(seconds=1))


def parse_birthdate(raw: str) -> date:
    """The `birthdate` parameter: one day, `eq` prefix only."""
    value = raw[2:] if raw.startswith("eq") else raw
    if not _DATE.match(value):
        raise BadParameter("birthdate", f"{raw!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise BadParameter("birthdate", f"{raw!r} is not a real date") from exc


@dataclass(frozen=True)
class Token:
    """A token parameter: `code`, `system|code` or `|code` (no system)."""

    system: str | None
    code: str

    def matches(self, codings: list[dict[str, str]]) -> bool:
        return any(
            c.get("code") == self.code and (self.system is None or c.get("system") == self.system)
            for c in codings
        )


def parse_token(name: str, raw: str) -> Token:
    system, bar, code = raw.rpartition("|")
    if not code:
        raise BadParameter(name, f"{raw!r} names no code")
    return Token(system if bar and system else None, code)


def parse_reference(name: str, raw: str, resource_type: str) -> str:
    """The id of `Patient/{id}` or a bare `{id}`; anything else is refused."""
    value = raw.removeprefix(f"{resource_type}/")
    if not value or "/" in value:
        raise BadParameter(name, f"{raw!r} is not a {resource_type} reference")
    return value
