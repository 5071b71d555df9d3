"""Read models for visits and check results."""

from __future__ import annotations

from collections.abc import Iterable

from mesoclinic.findings import Finding
from mesoclinic.visits import rules
from mesoclinic.visits.models import Visit
from mesoclinic.visits.schemas import (
    AdverseEventRead,
    CheckRead,
    CheckResult,
    VisitLotRead,
    VisitRead,
)


def visit_read(v: Visit) -> VisitRead:
    return VisitRead(
        id=v.id,
        clinic_id=v.clinic_id,
        patient_id=v.patient_id,
        practitioner_id=v.practitioner_id,
        performed_at=v.performed_at,
        plan_session_id=v.plan_session_id,
        cocktail_id=v.cocktail_id,
        cocktail_name=v.cocktail.name,
        lots=[
            VisitLotRead(
                lot_id=u.lot_id,
                batch_number=u.lot.batch_number,
                product_name=u.lot.product.name,
                volume_ml=u.volume_ul / 1000,
            )
            for u in v.lots_used
        ],
        technique=v.technique,
        zones=v.zone_list,
        depth_mm=v.depth_mm,
        points=v.points,
        volume_per_point_ml=v.volume_per_point_ml,
        total_volume_ml=v.total_volume_ml,
        needle_gauge=v.needle_gauge,
        needle_length_mm=v.needle_length_mm,
        prp_given=v.prp_given,
        prp_volume_ml=v.prp_volume_ml,
        pain_score=v.pain_score,
        hair_colour_last_date=v.hair_colour_last_date,
        adverse_events=[AdverseEventRead.model_validate(e) for e in v.adverse_events],
        confirmed_warnings=v.confirmed_warning_list,
        notes=v.notes,
        status=v.status,
        void_reason=v.void_reason,
        created_by=v.created_by,
    )


def check_result(findings: Iterable[Finding]) -> CheckResult:
    items = list(findings)
    return CheckResult(
        checks=[CheckRead(**f.as_dict()) for f in items],
        blocking=bool(rules.blocking(items)),
        needs_confirmation=sorted(
            {f.rule_id for f in items if f.severity in rules.NEEDS_CONFIRMATION}
        ),
    )
