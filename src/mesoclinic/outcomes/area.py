"""The outcomes area: marked sites, measurements, clinical images and their analysis."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission

AREA = Area(
    name="outcomes",
    routers=(
        "mesoclinic.outcomes.api",
        "mesoclinic.outcomes.pages",
    ),
    cli=("mesoclinic.outcomes.cli",),
    models="mesoclinic.outcomes.models",
    patient_tabs=(PatientTab("outcomes", "Outcomes", "/outcomes", Permission.OUTCOME_READ),),
    demo="mesoclinic.outcomes.demo",
)
