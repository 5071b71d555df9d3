"""Tabs of the patient page; each area registers its own (its routes live in its pages.py)."""

from __future__ import annotations

from dataclasses import dataclass

from mesoclinic.security.permissions import Permission, Role, has_permission


@dataclass(frozen=True)
class PatientTab:
    key: str
    label: str
    path: str  # appended to /patients/{id}
    permission: Permission


PATIENT_TABS: list[PatientTab] = [
    PatientTab("overview", "Overview", "", Permission.PATIENT_READ),
    PatientTab("history", "Medical history", "/history", Permission.HISTORY_READ),
    PatientTab("consents", "Consents", "/consents", Permission.CONSENT_READ),
    PatientTab("assessments", "Assessments", "/assessments", Permission.ASSESSMENT_READ),
    PatientTab("plan", "Plan", "/plan", Permission.PLAN_READ),
    PatientTab("visits", "Visits", "/visits", Permission.VISIT_READ),
    PatientTab("aftercare", "Aftercare", "/aftercare", Permission.AFTERCARE_READ),
]


def tabs_for(role: Role | str) -> list[PatientTab]:
    return [t for t in PATIENT_TABS if has_permission(role, t.permission)]
