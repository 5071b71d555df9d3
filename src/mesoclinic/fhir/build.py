"""Small pure pieces every mapper uses: validation through fhir.resources, references, times."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from mesoclinic.fhir import codes

Resource = dict[str, Any]


class InvalidResource(ValueError):
    """A resource that fhir.resources refuses; `path` is the FHIRPath of the first bad element."""

    def __init__(self, resource_type: str, path: str, message: str) -> None:
        super().__init__(f"{resource_type}.{path}: {message}" if path else message)
        self.resource_type = resource_type
        self.path = f"{resource_type}.{path}" if path else resource_type
        self.message = message


def _fhirpath(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif part != "__root__":
            parts.append(str(part))
    return ".".join(parts)


class _Sample:
    """Which resources a sampled run validates: the first of each type, then every `every`th."""

    def __init__(self, every: int) -> None:
        self.every = max(1, every)
        self.seen: dict[str, int] = {}
        self.checked = 0

    def wanted(self, resource_type: str) -> bool:
        n = self.seen.get(resource_type, 0)
        self.seen[resource_type] = n + 1
        if n % self.every:
            return False
        self.checked += 1
        return True


_SAMPLE: ContextVar[_Sample | None] = ContextVar("fhir_validation_sample", default=None)


@contextmanager
def sampled_validation(every: int) -> Iterator[_Sample]:
    """Inside this block `validated` checks one resource in `every` per type (the first of each
    type always): the bulk export's fast path. The mappers build the very same dicts either way
    (validation never changes a resource); what is skipped is only the fhir.resources model."""
    sample = _Sample(every)
    token = _SAMPLE.set(sample)
    try:
        yield sample
    finally:
        _SAMPLE.reset(token)


def validated(resource: Resource) -> Resource:
    """The resource itself once fhir.resources (R4B) accepts it; InvalidResource otherwise.

    Inside `sampled_validation` only the sampled resources are checked; the others are
    returned unchecked, unchanged."""
    resource_type = str(resource.get("resourceType", ""))
    sample = _SAMPLE.get()
    if sample is not None and not sample.wanted(resource_type):
        return resource
    from fhir.resources.R4B import (
        get_fhir_model_class,
    )  # loaded on first use (issue 18)

    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError) as exc:
        raise InvalidResource(resource_type or "Resource", "resourceType", str(exc)) from exc
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else None
        path = _fhirpath(tuple(first["loc"])) if first else ""
        raise InvalidResource(resource_type, path, first["msg"] if first else str(exc)) from exc
    return resource


def instant(value: datetime) -> str:
    """A FHIR instant/dateTime in UTC with seconds ("2026-03-01T09:30:00Z")."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def fhir_date(value: date) -> str:
    return value.isoformat()


def ref(resource_type: str, resource_id: uuid.UUID | str, display: str | None = None) -> Resource:
    """A literal reference to another resource of the same server."""
    out: Resource = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def staff(username: str | None, display: str | None = None) -> Resource | None:
    """A logical reference to a staff member by username (no Practitioner resource is served)."""
    if not username:
        return None
    return {
        "identifier": {"system": codes.USERNAME_SYSTEM, "value": username},
        "display": display or username,
    }


def pruned(resource: Resource) -> Resource:
    """The dict without None values, empty lists or empty dicts (FHIR forbids empty elements)."""
    out: Resource = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = pruned(value)
        elif isinstance(value, list):
            value = [pruned(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, {}, [])]
        if value not in (None, {}, [], ""):
            out[key] = value
    return out


def stable_id(namespace: uuid.UUID, name: str) -> str:
    """A stable UUID for a resource derived from a row's field (same input, same id)."""
    return str(uuid.uuid5(namespace, name))


def note(text: str | None) -> list[Resource] | None:
    return [{"text": text}] if text else None
