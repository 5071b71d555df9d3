"""Pydantic's validation errors in words a receptionist understands.

One table from pydantic's error type to a sentence; a schema's own message (a `ValueError`
raised by its validator, e.g. "cannot be in the future") is already written for people and is
kept as it is.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import ErrorDetails

_BY_TYPE: dict[str, str] = {
    "missing": "This field is required",
    "string_too_long": "Use at most {max_length} characters",
    "string_pattern_mismatch": "This is not in the expected format",
    "string_type": "Enter text",
    "int_parsing": "Enter a whole number",
    "int_type": "Enter a whole number",
    "int_from_float": "Enter a whole number",
    "float_parsing": "Enter a number",
    "float_type": "Enter a number",
    "decimal_parsing": "Enter a number",
    "finite_number": "Enter a number",
    "greater_than_equal": "Enter {ge} or more",
    "less_than_equal": "Enter {le} or less",
    "greater_than": "Enter more than {gt}",
    "less_than": "Enter less than {lt}",
    "date_parsing": "Enter a date like 2026-05-01",
    "date_from_datetime_parsing": "Enter a date like 2026-05-01",
    "date_from_datetime_inexact": "Enter a date without a time",
    "date_type": "Enter a date like 2026-05-01",
    "datetime_parsing": "Enter a date and a time",
    "datetime_from_date_parsing": "Enter a date and a time",
    "datetime_type": "Enter a date and a time",
    "time_parsing": "Enter a time like 09:30",
    "time_type": "Enter a time like 09:30",
    "uuid_parsing": "Choose an entry from the list",
    "uuid_type": "Choose an entry from the list",
    "literal_error": "Choose one of the options offered",
    "enum": "Choose one of the options offered",
    "bool_parsing": "Choose yes or no",
    "bool_type": "Choose yes or no",
    "too_long": "Choose at most {max_length}",
    "list_type": "Choose from the options offered",
    "extra_forbidden": "This field is not part of the form",
    "url_parsing": "Enter a web address like https://example.org",
}
_OWN_MESSAGE_PREFIX = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}
FALLBACK = "This value is not valid"


def plain_message(error: ErrorDetails) -> str:
    """The sentence to show next to the field for one pydantic error."""
    kind = error["type"]
    if kind in _OWN_MESSAGE_PREFIX:
        return str(error["msg"]).removeprefix(_OWN_MESSAGE_PREFIX[kind])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in ("string_too_short", "too_short"):
        if ctx.get("min_length", 1) <= 1:
            return "This field is required"
        noun = "characters" if kind == "string_too_short" else ""
        return f"Use at least {ctx['min_length']} {noun}".rstrip()
    template = _BY_TYPE.get(kind)
    if template is None:
        return FALLBACK
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return FALLBACK
