"""The FHIR area: R4 (R4B models) mapping of the record, the /fhir REST face, `export fhir`."""

from mesoclinic.area import Area
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="fhir",
    routers=("mesoclinic.fhir.api",),
    cli=("mesoclinic.fhir.cli",),
    # Reception books and registers but does not read the clinical record; patients read their
    # own (each section's own permission still applies on top: docs/fhir.md).
    grants={Permission.FHIR_READ: CLINICAL | {Role.PATIENT}},
)
