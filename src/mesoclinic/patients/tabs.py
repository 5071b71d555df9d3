"""Tabs of the patient page: every area's tabs (see its `area.py`) the role may open."""

from __future__ import annotations

from mesoclinic import areas
from mesoclinic.area import PatientTab
from mesoclinic.security.permissions import Role, has_permission


def tabs_for(role: Role | str) -> list[PatientTab]:
    return [t for t in areas.patient_tabs() if has_permission(role, t.permission)]
