"""The permissions routes name, and who holds them (each area grants its own in its area.py)."""

from __future__ import annotations

from enum import StrEnum

from mesoclinic import areas
from mesoclinic.security.roles import Role

__all__ = ["Permission", "Role", "has_permission"]


class Permission(StrEnum):
    PATIENT_READ = "patient:read"
    PATIENT_WRITE = "patient:write"
    PATIENT_VOID = "patient:void"
    HISTORY_READ = "history:read"
    HISTORY_WRITE = "history:write"
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    AUDIT_READ = "audit:read"
    USERS_MANAGE = "users:manage"
    SELF = "self"  # any signed-in user, for their own account
    ASSESSMENT_READ = "assessment:read"
    ASSESSMENT_WRITE = "assessment:write"
    DECISION_OVERRIDE = "decision:override"
    FORMULARY_READ = "formulary:read"
    FORMULARY_WRITE = "formulary:write"
    STOCK_WRITE = "stock:write"
    VISIT_READ = "visit:read"
    VISIT_WRITE = "visit:write"
    PRESCRIBE = "prescribe"
    PLAN_READ = "plan:read"
    PLAN_WRITE = "plan:write"
    APPOINTMENT_READ = "appointment:read"
    APPOINTMENT_WRITE = "appointment:write"
    AFTERCARE_READ = "aftercare:read"
    AFTERCARE_WRITE = "aftercare:write"
    OUTBOX_READ = "outbox:read"
    OUTCOME_READ = "outcome:read"
    OUTCOME_WRITE = "outcome:write"
    CLINIC_CALENDAR_WRITE = "clinic-calendar:write"  # plans: opening days, rooms, closures
    FHIR_READ = (
        "fhir:read"  # the /fhir REST face and `export fhir` (each area's read still applies)
    )
    FHIR_BULK_EXPORT = "fhir:bulk-export"  # a whole clinic's records as NDJSON ($export)


def has_permission(role: Role | str, permission: str) -> bool:
    """Whether a role holds a permission: admins hold all; others what the areas grant them."""
    role = Role(role)
    return role is Role.ADMIN or role in areas.grants().get(permission, frozenset())
