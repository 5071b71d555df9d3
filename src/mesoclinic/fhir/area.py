"""The FHIR area: R4 (R4B models) mapping of the record, the /fhir REST face, `export fhir`."""

from mesoclinic.area import Area
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINICAL, Role

AREA = Area(
    name="fhir",
    models="mesoclinic.fhir.bulk_models",
    # bulk_api before api: `/Patient/$export` must not be read as `/Patient/{id}`.
    routers=("mesoclinic.fhir.bulk_api", "mesoclinic.fhir.import_api", "mesoclinic.fhir.api"),
    cli=("mesoclinic.fhir.cli",),
    commands={
        "export": "Export records in standard formats.",
    },
    worker_tasks=("mesoclinic.fhir.bulk_worker:run_pending",),
    demo="mesoclinic.fhir.demo",
    # Reception books and registers but does not read the clinical record; patients read their
    # own (each section's own permission still applies on top: docs/fhir.md). A bulk export is
    # a whole clinic's records: clinical staff (their clinic) and group admins.
    grants={
        Permission.FHIR_READ: CLINICAL | {Role.PATIENT},
        Permission.FHIR_BULK_EXPORT: CLINICAL,
    },
)
