"""The security area: clinics, users, sign-in, sessions and tokens, the audit log."""

from mesoclinic.area import Area

AREA = Area(
    name="security",
    routers=("mesoclinic.security.api", "mesoclinic.security.pages"),
    cli=("mesoclinic.security.cli",),
    models="mesoclinic.security.models",
)
