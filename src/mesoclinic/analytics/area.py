"""The analytics area: saved cohorts, outcome summaries and comparisons, product and lot safety.

Who may look: clinicians and admins. Nurses, reception and patients may not: the figures pool a
whole clinic's outcomes and adverse events, which is a clinical-governance view rather than
what a nurse needs at the chair (see docs/decisions.md, "Cohort analytics").
"""

from enum import StrEnum

from mesoclinic.area import Area, NavItem
from mesoclinic.security.roles import Role


class AnalyticsPermission(StrEnum):
    VIEW = "analytics:view"  # see, save and export aggregate cohort figures


AREA = Area(
    name="analytics",
    # its tables, and the listener that keeps the derived rows up to date on every write
    models="mesoclinic.analytics.rows",
    routers=("mesoclinic.analytics.api", "mesoclinic.analytics.pages"),
    cli=("mesoclinic.analytics.cli",),
    commands={
        "analytics": "Cohort analytics: outcome summaries, comparisons, lot safety.",
    },
    nav=(NavItem("Analytics", "/analytics", AnalyticsPermission.VIEW),),
    demo="mesoclinic.analytics.demo",
    grants={AnalyticsPermission.VIEW: frozenset({Role.CLINICIAN})},
)
