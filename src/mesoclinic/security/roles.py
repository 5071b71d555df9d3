"""The roles a user account can hold, and the groups of them that areas grant permissions to."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the group's administrator: every permission of every area, every clinic
    # One clinic's administrator: its users, audit log, calendar and stock; that clinic only.
    CLINIC_ADMIN = "clinic_admin"
    CLINICIAN = "clinician"
    NURSE = "nurse"
    RECEPTION = "reception"
    PATIENT = "patient"  # for their own record only; scoping is enforced per request


CLINICAL = frozenset({Role.CLINICIAN, Role.NURSE})
STAFF = CLINICAL | {Role.RECEPTION}
EVERYONE = STAFF | {Role.PATIENT}
# Granted per area where a permission administers one clinic (users, calendar, stock, ...).
CLINIC_ADMIN = frozenset({Role.CLINIC_ADMIN})
SIGNED_IN = EVERYONE | CLINIC_ADMIN
