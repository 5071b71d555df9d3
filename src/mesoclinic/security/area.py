"""The security area: clinics, users, sign-in, sessions and tokens, the audit log."""

from mesoclinic.area import Area
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import EVERYONE

AREA = Area(
    name="security",
    routers=("mesoclinic.security.api", "mesoclinic.security.pages"),
    cli=("mesoclinic.security.cli",),
    models="mesoclinic.security.models",
    grants={
        Permission.SELF: EVERYONE,
        Permission.AUDIT_READ: frozenset(),  # admins only
        Permission.USERS_MANAGE: frozenset(),  # admins only
    },
)
