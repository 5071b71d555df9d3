"""The roles a user account can hold, and the groups of them that areas grant permissions to."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # holds every permission of every area
    CLINICIAN = "clinician"
    NURSE = "nurse"
    RECEPTION = "reception"
    PATIENT = "patient"  # for their own record only; scoping is enforced per request


CLINICAL = frozenset({Role.CLINICIAN, Role.NURSE})
STAFF = CLINICAL | {Role.RECEPTION}
EVERYONE = STAFF | {Role.PATIENT}
