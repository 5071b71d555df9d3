"""Bundles and OperationOutcomes. Pure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mesoclinic.fhir.build import Resource, instant

# HTTP status -> OperationOutcome issue code (http://hl7.org/fhir/issue-type)
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    422: "processing",
    429: "throttled",
}


def operation_outcome(status: int, message: str, expression: str | None = None) -> Resource:
    """One error issue in plain words, with the FHIRPath of the element when one is named."""
    issue: Resource = {
        "severity": "error" if status < 500 else "fatal",
        "code": ISSUE_CODES.get(status, "exception"),
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def searchset(
    resources: list[Resource],
    *,
    base: str,
    total: int,
    self_url: str,
    next_url: str | None = None,
    previous_url: str | None = None,
    included: list[Resource] | None = None,
) -> Resource:
    """A searchset Bundle: matches, then `_include`d resources, with paging links."""
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    if previous_url:
        links.append({"relation": "previous", "url": previous_url})
    entries = [_entry(r, base, "match") for r in resources]
    entries += [_entry(r, base, "include") for r in included or []]
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(datetime.now(UTC))},
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(resource: Resource, base: str, mode: str) -> Resource:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def everything_bundle(resources: list[Resource], base: str) -> Resource:
    """The Bundle `export fhir` writes: the same searchset `$everything` answers, timestamped."""
    bundle = searchset(
        resources,
        base=base,
        total=len(resources),
        self_url=f"{base}/Patient/{resources[0]['id']}/$everything",
    )
    bundle["timestamp"] = instant(datetime.now(UTC))
    return bundle
