"""Domain errors raised by services; one handler turns each into one JSON or HTML shape."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass
class DomainError(Exception):
    """Base of every error a user can cause; carries an HTTP status and a stable code."""

    message: str
    field: str | None = None
    code: str = "error"
    status: int = 400
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    def __init__(self, message: str = "Not found", field: str | None = None) -> None:
        super().__init__(message, field, "not_found", 404)


class Unauthenticated(DomainError):
    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message, None, "unauthenticated", 401)


class Forbidden(DomainError):
    def __init__(
        self, message: str = "You do not have permission to do this", field: str | None = None
    ) -> None:
        super().__init__(message, field, "forbidden", 403)


class Conflict(DomainError):
    def __init__(self, message: str, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(message, field, code, 409)


class InvalidInput(DomainError):
    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message, field, code, 422)


class InvalidTransition(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field, "invalid_transition", 409)


class TooManyAttempts(DomainError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, None, "locked_out", 429, {"retry_after": retry_after_s})


class RuleViolation(DomainError):
    """A clinical rule refused the action; `checks` lists every finding with its rule id."""

    def __init__(self, message: str, checks: list[dict[str, Any]], code: str = "rule_violation"):
        super().__init__(message, None, code, 422, {"checks": checks})


class Overloaded(DomainError):
    """The server is saturated or the database is busy: nothing was done; try again shortly.

    Answered 503 with Retry-After, never 500: overload is a state, not a fault.
    """

    def __init__(
        self,
        message: str = "The clinic system is busy; nothing was saved. Try again in a moment.",
        retry_after_s: int = 2,
    ) -> None:
        super().__init__(message, None, "busy", 503, {"retry_after": retry_after_s})
