"""The plans area: protocols, treatment plans, the clinic calendar and bookings."""

from mesoclinic.area import Area, NavItem, PatientTab
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINIC_ADMIN, CLINICAL, EVERYONE, STAFF, Role

AREA = Area(
    name="plans",
    routers=("mesoclinic.plans.api", "mesoclinic.plans.pages", "mesoclinic.plans.calendar_pages"),
    cli=("mesoclinic.plans.cli",),
    commands={
        "protocols": "Treatment protocol templates.",
    },
    models="mesoclinic.plans.models",
    nav=(NavItem("Calendar", "/calendar", Permission.APPOINTMENT_WRITE),),
    patient_tabs=(PatientTab("plan", "Plan", "/plan", Permission.PLAN_READ),),
    panels=("mesoclinic.plans.calendar_pages:todays_appointments_panel",),
    demo="mesoclinic.plans.demo",
    grants={
        Permission.PLAN_READ: EVERYONE | CLINIC_ADMIN,
        Permission.PLAN_WRITE: CLINICAL,
        Permission.APPOINTMENT_READ: EVERYONE | CLINIC_ADMIN,
        Permission.APPOINTMENT_WRITE: STAFF | CLINIC_ADMIN,
        Permission.CLINIC_CALENDAR_WRITE: frozenset({Role.CLINICIAN}) | CLINIC_ADMIN,
    },
)
