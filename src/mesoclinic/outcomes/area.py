"""The outcomes area: marked sites, measurements, clinical images and their analysis."""

from mesoclinic.area import Area, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="outcomes",
    models="mesoclinic.outcomes.models",
    routers=(
        "mesoclinic.outcomes.api",
        "mesoclinic.outcomes.pages",
        "mesoclinic.outcomes.images_api",
        "mesoclinic.outcomes.photo_consent_api",
        "mesoclinic.outcomes.images_pages",
        "mesoclinic.outcomes.review_api",
        "mesoclinic.outcomes.review_pages",
        "mesoclinic.outcomes.progress_pages",
        "mesoclinic.outcomes.progress_api",
        "mesoclinic.outcomes.pairs_pages",
        "mesoclinic.outcomes.plan_review_pages",
    ),
    # images_cli creates the `images` group; review_cli adds `images reanalyse` to it.
    cli=(
        "mesoclinic.outcomes.cli",
        "mesoclinic.outcomes.images_cli",
        "mesoclinic.outcomes.review_cli",
        "mesoclinic.outcomes.report_cli",
    ),
    commands={
        "measurements": "A patient's measured results.",
        "sites": "A patient's marked scalp sites.",
        "images": "Clinical images of patients.",
        "corrections": "Clinicians' corrections of hair detection.",
        "report": (
            "Write a patient's progress report (measures, charts, before/after) as PDF and/or HTML."
        ),
    },
    patient_tabs=(
        PatientTab("outcomes", "Outcomes", "/outcomes", Permission.OUTCOME_READ),
        PatientTab("images", "Images", "/images", Permission.OUTCOME_READ),
        PatientTab("progress", "Progress", "/progress", Permission.OUTCOME_READ),
    ),
    panels=("mesoclinic.outcomes.panels:review_plan_panel",),
    demo="mesoclinic.outcomes.demo",
    worker_tasks=("mesoclinic.outcomes.jobs_worker:run_pending",),
    grants={
        Permission.OUTCOME_READ: CLINICAL | {Role.PATIENT},
        Permission.OUTCOME_WRITE: CLINICAL,
    },
)
