"""The formulary area: ingredients, cocktails, products, lots, stock and recalls."""

from mesoclinic.area import Area, NavItem
from mesoclinic.security.permissions import Permission
from mesoclinic.security.roles import CLINIC_ADMIN, CLINICAL, Role

AREA = Area(
    name="formulary",
    routers=("mesoclinic.formulary.api", "mesoclinic.formulary.pages"),
    cli=("mesoclinic.formulary.cli",),
    commands={
        "stock": "Lots and stock.",
    },
    models="mesoclinic.formulary.models",
    nav=(
        NavItem("Formulary", "/formulary", Permission.FORMULARY_READ),
        NavItem("Stock", "/stock", Permission.FORMULARY_READ),
    ),
    panels=("mesoclinic.formulary.pages:stock_panel",),
    demo="mesoclinic.formulary.demo",
    grants={
        Permission.FORMULARY_READ: CLINICAL | CLINIC_ADMIN,
        Permission.FORMULARY_WRITE: frozenset({Role.CLINICIAN}) | CLINIC_ADMIN,
        Permission.STOCK_WRITE: CLINICAL | CLINIC_ADMIN,
    },
)
