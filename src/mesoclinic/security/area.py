"""The security area: clinics, users, sign-in, sessions and tokens, the audit log."""

from mesoclinic.area import Area
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINIC_ADMIN, SIGNED_IN

AREA = Area(
    name="security",
    routers=("mesoclinic.security.api", "mesoclinic.security.pages"),
    cli=("mesoclinic.security.cli",),
    commands={
        "clinics": "Clinics of the group.",
        "users": "Staff and patient user accounts.",
        "audit": "The audit log.",
    },
    models="mesoclinic.security.models",
    # First, so every pass seals what the requests before it committed.
    worker_tasks=(
        "mesoclinic.security.audit_seal:seal_pass",
        "mesoclinic.security.idempotency:purge_pass",
    ),
    grants={
        Permission.SELF: SIGNED_IN,
        # Administrators only; a clinic admin's lists are scoped to their clinic.
        Permission.AUDIT_READ: CLINIC_ADMIN,
        Permission.USERS_MANAGE: CLINIC_ADMIN,
    },
)
