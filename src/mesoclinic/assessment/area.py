"""The assessment area: diagnosis, staging, candidacy and contraindication rules, overrides."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="assessment",
    routers=("mesoclinic.assessment.api", "mesoclinic.assessment.pages"),
    cli=("mesoclinic.assessment.cli",),
    commands={
        "rules": "Candidacy and contraindication rulebook.",
    },
    models="mesoclinic.assessment.models",
    patient_tabs=(
        PatientTab("assessments", "Assessments", "/assessments", Permission.ASSESSMENT_READ),
    ),
    panels=("mesoclinic.assessment.pages:awaiting_override_panel",),
    demo="mesoclinic.assessment.demo",
    grants={
        Permission.ASSESSMENT_READ: CLINICAL,
        Permission.ASSESSMENT_WRITE: CLINICAL,
        Permission.DECISION_OVERRIDE: frozenset({Role.CLINICIAN}),
    },
)
