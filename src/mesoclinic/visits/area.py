"""The visits area: treatment session records with their safety checks and adverse events."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="visits",
    routers=("mesoclinic.visits.api", "mesoclinic.visits.pages"),
    models="mesoclinic.visits.models",
    patient_tabs=(PatientTab("visits", "Visits", "/visits", Permission.VISIT_READ),),
    demo="mesoclinic.visits.demo",
    grants={
        Permission.VISIT_READ: CLINICAL | {Role.PATIENT},
        Permission.VISIT_WRITE: CLINICAL,
        Permission.PRESCRIBE: frozenset({Role.CLINICIAN}),
    },
)
