"""Demo visits: completed sessions over the last months, consistent with each storyline.

Every demo visit goes through the real safety checks (the demo practitioner confirms the
warnings, as they would in the clinic; a visit that a check refuses is simply not created).
No visits for pregnant patients or for advanced hair loss (not recommended).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mesoclinic.assessment.gate import clinic_rulebook
from mesoclinic.demo.seed import MAIN_CLINIC, DemoContext
from mesoclinic.errors import DomainError
from mesoclinic.formulary import stock
from mesoclinic.patients.models import Patient
from mesoclinic.visits import rules, service
from mesoclinic.visits.models import Visit
from mesoclinic.visits.rulebook import get_visit_rulebook
from mesoclinic.visits.schemas import VisitCreate

# storyline -> (cocktail, technique, zones, depth mm, points, mL per point, sessions)
PLANS: dict[str, tuple[str, str, list[str], float, int, float, int]] = {
    "telogen_effluvium": (
        "Standard vitamin cocktail",
        "nappage",
        ["frontal", "mid_scalp", "vertex", "left_temporal", "right_temporal"],
        1.5,
        60,
        0.05,
        5,
    ),
    "early_aga": (
        "Standard vitamin cocktail",
        "point_by_point",
        ["frontal", "mid_scalp", "vertex"],
        2.0,
        60,
        0.05,
        4,
    ),
    "moderate_aga": (
        "Dutasteride 0.01 %",
        "point_by_point",
        ["vertex", "mid_scalp"],
        2.0,
        40,
        0.05,
        4,
    ),
    "fphl": ("Minoxidil 0.5 %", "point_by_point", ["mid_scalp", "frontal"], 1.5, 40, 0.05, 4),
    "anticoagulant": (
        "Peptide and copper cocktail",
        "mesogun",
        ["vertex", "mid_scalp"],
        1.0,
        60,
        0.05,
        3,
    ),
    "biotin_allergy": (
        "Amino acid and mineral cocktail (biotin-free)",
        "nappage",
        ["mid_scalp", "vertex", "occipital"],
        1.5,
        60,
        0.05,
        4,
    ),
}
LOT_KEYS = {  # first-expiry-first-out candidates per cocktail and clinic
    ("Standard vitamin cocktail", True): ["vitamin_old", "vitamin_recall", "vitamin_main"],
    ("Standard vitamin cocktail", False): ["vitamin_es"],
    ("Dutasteride 0.01 %", True): ["dutasteride"],
    ("Minoxidil 0.5 %", True): ["minoxidil"],
    ("Minoxidil 0.5 %", False): ["minoxidil_es"],
    ("Peptide and copper cocktail", True): ["peptide"],
    ("Amino acid and mineral cocktail (biotin-free)", True): ["amino"],
}
EVENTS = [
    {"type": "pain", "severity": "mild", "onset": "during", "outcome": "resolved"},
    {"type": "bruising", "severity": "mild", "onset": "same_day", "outcome": "resolved"},
    {"type": "redness", "severity": "mild", "onset": "during", "outcome": "resolved"},
    {"type": "headache", "severity": "mild", "onset": "same_day", "outcome": "resolved"},
]


def _pick_lot(
    lots: dict[str, tuple[Any, int]], keys: list[str], need_ul: int, on: Any
) -> Any | None:
    for key in keys:
        lot, reserve = lots[key]
        if lot.expires_on >= on and lot.balance_ul - need_ul >= reserve:
            return lot
    return None


def _body(
    patient: Patient,
    plan: tuple[str, str, list[str], float, int, float, int],
    cocktail: Any,
    lot: Any,
    when: datetime,
    rng: random.Random,
) -> dict[str, Any]:
    _, technique, zones, depth, points, per_point, _ = plan
    total = round(points * per_point, 2)
    event = rng.choice(EVENTS) if rng.random() < 0.15 else {"type": "none"}
    return {
        "patient_id": patient.id,
        "performed_at": when,
        "cocktail_id": cocktail.id,
        "lots": [{"lot_id": lot.id, "volume_ml": total}],
        "technique": technique,
        "zones": zones,
        "depth_mm": depth,
        "points": points,
        "volume_per_point_ml": per_point,
        "total_volume_ml": total,
        "needle_gauge": 30,
        "needle_length_mm": 4,
        "pain_score": rng.randint(1, 5),
        "adverse_events": [event],
    }


def _record(session: Session, actor: Any, body: dict[str, Any], books: service.Rulebooks) -> bool:
    """Run the checks, confirm the warnings as the practitioner would, and record."""
    data = VisitCreate.model_validate(body)
    findings = service.check(session, actor, data, books)
    if rules.blocking(findings):
        return False
    confirmed = [f.rule_id for f in findings if f.severity in rules.NEEDS_CONFIRMATION]
    try:
        with session.begin_nested():
            service.create(
                session, actor, data.model_copy(update={"confirmed_warnings": confirmed}), books
            )
    except DomainError:
        return False
    return True


def add_demo_data(session: Session, ctx: DemoContext) -> None:
    """Completed visits for the treated storylines, then the recall of one vitamin lot."""
    formulary = ctx.extra["formulary"]
    lots: dict[str, tuple[Any, int]] = formulary["lots"]
    rng = random.Random(7)
    books = service.Rulebooks(
        visit=get_visit_rulebook(ctx.settings.visit_rulebook),
        screening=clinic_rulebook(ctx.settings.rulebook),
    )
    for index, (patient, story) in enumerate(ctx.patients):
        plan = PLANS.get(story)
        if plan is None or (story == "moderate_aga" and patient.sex != "male"):
            continue
        main = patient.clinic_id == ctx.clinics[MAIN_CLINIC].id
        keys = LOT_KEYS.get((plan[0], main))
        if keys is None:
            continue
        tz = ZoneInfo("Europe/London" if main else "Europe/Madrid")
        rx = any(
            line.ingredient.prescription_only for line in formulary["cocktails"][plan[0]].lines
        )
        who = "dr.moreau" if main and (rx or index % 2) else "nurse.evans" if main else "dr.garcia"
        first = ctx.now.astimezone(tz).replace(hour=10, minute=0, second=0) - timedelta(
            days=14 * plan[6] + index % 10
        )
        for n in range(plan[6]):
            when = first + timedelta(days=14 * n, minutes=30 * (index % 6))
            if when > ctx.now - timedelta(days=1):
                break
            need = round(plan[4] * plan[5] * 1000)
            lot = _pick_lot(lots, keys, need, when.date())
            if lot is None:
                break
            body = _body(patient, plan, formulary["cocktails"][plan[0]], lot, when, rng)
            _record(session, ctx.actor(who), body, books)
    recalled, _ = lots["vitamin_recall"]
    stock.recall(
        session,
        ctx.actor("dr.moreau"),
        recalled.id,
        "Manufacturer notice: possible loss of sterility in batch TV-2607R.",
    )


def add_historic_visit(
    session: Session, ctx: DemoContext, patient: Patient, story: str, when: datetime, prp: bool
) -> bool:
    """A session given before the clinic used mesoclinic, entered from its paper record (so no
    lot is drawn and no check runs: the consent and stock of that time are not in the system).
    The outcomes demo uses these so its measured courses show the sessions they followed."""
    plan = PLANS.get(story)
    if plan is None:
        return False
    cocktail_name, technique, zones, depth, points, per_point, _ = plan
    main = patient.clinic_id == ctx.clinics[MAIN_CLINIC].id
    who = ctx.staff["dr.moreau" if main else "dr.garcia"]
    session.add(
        Visit(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            practitioner_id=who.id,
            performed_at=when,
            cocktail_id=ctx.extra["formulary"]["cocktails"][cocktail_name].id,
            technique=technique,
            zones=zones,
            depth_mm=depth,
            points=points,
            volume_per_point_ml=per_point,
            total_volume_ml=round(points * per_point, 2),
            needle_gauge=30,
            needle_length_mm=4,
            prp_given=prp,
            prp_volume_ml=4.0 if prp else None,
            notes="Entered from the clinic's paper record.",
            created_by=who.username,
            updated_by=who.username,
        )
    )
    session.flush()
    return True
