"""The patients area: the patient record, consents and medical history."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission

AREA = Area(
    name="patients",
    routers=("mesoclinic.patients.api", "mesoclinic.patients.pages"),
    models="mesoclinic.patients.models",
    patient_tabs=(
        PatientTab("overview", "Overview", "", Permission.PATIENT_READ),
        PatientTab("history", "Medical history", "/history", Permission.HISTORY_READ),
        PatientTab("consents", "Consents", "/consents", Permission.CONSENT_READ),
    ),
)
