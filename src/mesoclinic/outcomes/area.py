"""The outcomes area: marked sites, measurements, clinical images and their analysis."""

from mesoclinic.area import Area
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="outcomes",
    models="mesoclinic.outcomes.models",
    grants={
        Permission.OUTCOME_READ: CLINICAL | {Role.PATIENT},
        Permission.OUTCOME_WRITE: CLINICAL,
    },
)
