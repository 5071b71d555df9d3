"""The patients area: the patient record, consents and medical history."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINIC_ADMIN, CLINICAL, EVERYONE, STAFF, Role

AREA = Area(
    name="patients",
    routers=("mesoclinic.patients.api", "mesoclinic.patients.pages"),
    models="mesoclinic.patients.models",
    patient_tabs=(
        PatientTab("overview", "Overview", "", Permission.PATIENT_READ),
        PatientTab("history", "Medical history", "/history", Permission.HISTORY_READ),
        PatientTab("consents", "Consents", "/consents", Permission.CONSENT_READ),
    ),
    grants={
        Permission.PATIENT_READ: EVERYONE | CLINIC_ADMIN,
        Permission.PATIENT_WRITE: STAFF,
        Permission.PATIENT_VOID: frozenset({Role.CLINICIAN}),
        Permission.HISTORY_READ: CLINICAL | {Role.PATIENT},
        Permission.HISTORY_WRITE: CLINICAL,
        Permission.CONSENT_READ: EVERYONE,
        Permission.CONSENT_WRITE: STAFF,
    },
)
