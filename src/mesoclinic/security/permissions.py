"""Roles and the permissions each one holds (pure data; every route names one permission)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    RECEPTION = "reception"
    PATIENT = "patient"


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
    # Later areas add theirs here, next to the role table below.
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
    ANALYTICS_READ = "analytics:read"
    FHIR_READ = "fhir:read"
    FHIR_WRITE = "fhir:write"
    CLINIC_CALENDAR_WRITE = "clinic-calendar:write"  # plans: opening days, rooms, closures


P = Permission
_CLINICAL_STAFF = {
    P.PATIENT_READ,
    P.PATIENT_WRITE,
    P.HISTORY_READ,
    P.HISTORY_WRITE,
    P.CONSENT_READ,
    P.CONSENT_WRITE,
    P.SELF,
    P.ASSESSMENT_READ,
    P.ASSESSMENT_WRITE,
    P.FORMULARY_READ,
    P.STOCK_WRITE,
    P.VISIT_READ,
    P.VISIT_WRITE,
    P.PLAN_READ,
    P.PLAN_WRITE,
    P.APPOINTMENT_READ,
    P.APPOINTMENT_WRITE,
    P.AFTERCARE_READ,
    P.OUTCOME_READ,
    P.OUTCOME_WRITE,
    P.FHIR_READ,
    P.AFTERCARE_WRITE,
    P.OUTBOX_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CLINICIAN: frozenset(
        _CLINICAL_STAFF
        | {
            P.PATIENT_VOID,
            P.DECISION_OVERRIDE,
            P.FORMULARY_WRITE,
            P.PRESCRIBE,
            P.ANALYTICS_READ,
            P.FHIR_WRITE,
            P.CLINIC_CALENDAR_WRITE,
        }
    ),
    Role.NURSE: frozenset(_CLINICAL_STAFF),
    Role.RECEPTION: frozenset(
        {
            P.PATIENT_READ,
            P.PATIENT_WRITE,
            P.CONSENT_READ,
            P.CONSENT_WRITE,
            P.SELF,
            P.PLAN_READ,
            P.APPOINTMENT_READ,
            P.APPOINTMENT_WRITE,
            P.AFTERCARE_READ,
            P.AFTERCARE_WRITE,
            P.OUTBOX_READ,
        }
    ),
    # A patient holds these for their own record only; scoping is enforced per request.
    Role.PATIENT: frozenset(
        {
            P.PATIENT_READ,
            P.HISTORY_READ,
            P.CONSENT_READ,
            P.SELF,
            P.PLAN_READ,
            P.APPOINTMENT_READ,
            P.AFTERCARE_READ,
            P.OUTCOME_READ,
            P.VISIT_READ,
            P.AFTERCARE_WRITE,  # declare own events, email opt-out (own record only)
        }
    ),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    """Whether a role holds a permission."""
    return permission in ROLE_PERMISSIONS[Role(role)]
