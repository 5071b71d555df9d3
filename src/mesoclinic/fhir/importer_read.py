"""Reading a referral's resources: the helpers every resource reader shares.

Pure: where a problem is (a FHIRPath expression), the problems of one bundle (`Reader`),
fhir.resources validation, and the values read from codings, references, dates and notes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from mesoclinic.fhir.importer_records import Issue


def fhirpath(prefix: str, loc: tuple[int | str, ...]) -> str:
    """`prefix.a.b[1].c` from a pydantic error location."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "__root__":
            out += f".{part}"
    return out


class Reader:
    """Collects the problems of one bundle while reading its entries."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def problem(self, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(path, message, code))

    def text(self, resource: dict[str, Any], path: str, name: str, *, limit: int) -> str | None:
        value = resource.get(name)
        if value is None:
            return None
        value = str(value).strip()
        if len(value) > limit:
            self.problem(f"{path}.{name}", f"longer than {limit} characters", "value")
            return None
        return value or None


def concept_text(concept: dict[str, Any] | None) -> str | None:
    if not concept:
        return None
    if concept.get("text"):
        return str(concept["text"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"]).strip()
    return None


def code_in(concept: dict[str, Any] | None, system: str) -> str | None:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return None


def extension_code(resource: dict[str, Any], url: str) -> str | None:
    for extension in resource.get("extension") or []:
        if extension.get("url") == url and extension.get("valueCode"):
            return str(extension["valueCode"])
    return None


def notes_of(resource: dict[str, Any]) -> str | None:
    texts = [str(n["text"]).strip() for n in resource.get("note") or [] if n.get("text")]
    return "\n".join(texts) or None


def date_of(value: str | None) -> date | None:
    if not value:
        return None
    return date.fromisoformat(value[:10]) if len(value) >= 10 else None


def instant_of(value: str | None) -> datetime | None:
    if not value:
        return None
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def entry_keys(entry: dict[str, Any], resource: dict[str, Any]) -> tuple[str, ...]:
    keys = [
        f"identifier|{i.get('system', '')}|{i['value']}"
        for i in resource.get("identifier") or []
        if i.get("value")
    ]
    if entry.get("fullUrl"):
        keys.append(f"url|{entry['fullUrl']}")
    if resource.get("id"):
        keys.append(f"id|{resource['resourceType']}/{resource['id']}")
    return tuple(dict.fromkeys(keys))


def reference_keys(entry: dict[str, Any], resource: dict[str, Any]) -> tuple[str, ...]:
    """Every way a reference in the bundle may name this resource."""
    out = []
    if entry.get("fullUrl"):
        out.append(str(entry["fullUrl"]))
    if resource.get("id"):
        kind, rid = resource["resourceType"], resource["id"]
        out.append(f"{kind}/{rid}")
        if entry.get("fullUrl", "").endswith(f"/{kind}/{rid}"):
            out.append(entry["fullUrl"])
    return tuple(dict.fromkeys(out))


def validate(reader: Reader, resource: dict[str, Any], path: str) -> bool:
    from fhir.resources.R4B import (
        get_fhir_model_class,
    )  # loaded on first use (issue 18)

    model = get_fhir_model_class(resource["resourceType"])
    try:
        model.model_validate(resource)
    except ValidationError as error:
        for e in error.errors()[:20]:
            reader.problem(fhirpath(path, tuple(e["loc"])), e["msg"])
        return False
    return True


def subject_of(resource: dict[str, Any], name: str = "subject") -> str:
    return str((resource.get(name) or {}).get("reference") or "")
