"""The aftercare area: precautions, instruction sheets, reminders (outbox) and calendar files."""

from mesoclinic.area import Area, NavItem, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINIC_ADMIN, EVERYONE, STAFF

AREA = Area(
    name="aftercare",
    routers=("mesoclinic.aftercare.api", "mesoclinic.aftercare.pages"),
    models="mesoclinic.aftercare.models",
    nav=(NavItem("Outbox", "/admin/outbox", Permission.OUTBOX_READ),),
    patient_tabs=(PatientTab("aftercare", "Aftercare", "/aftercare", Permission.AFTERCARE_READ),),
    panels=("mesoclinic.aftercare.panels:outbox_panel",),
    demo="mesoclinic.aftercare.demo",
    worker_tasks=("mesoclinic.aftercare.worker:run_once",),
    grants={
        Permission.AFTERCARE_READ: EVERYONE,
        Permission.AFTERCARE_WRITE: EVERYONE,
        Permission.OUTBOX_READ: STAFF | CLINIC_ADMIN,
    },
)
