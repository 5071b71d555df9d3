"""Per product and lot: adverse-event rates with exact CIs and lot signals, outcome by cocktail
and protocol; and response by stage beside each candidacy rule. Aggregates only, audited."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mesoclinic.analytics import evidence, queries, safety_queries, service, signals
from mesoclinic.analytics.cohorts import CohortFilter, time_point
from mesoclinic.analytics.schemas import RateRow, SafetyReport, StageReport
from mesoclinic.analytics.scratch import scratch
from mesoclinic.assessment.rulebook import Rulebook, get_rulebook
from mesoclinic.outcomes.kinds import KindBook, load_kinds
from mesoclinic.outcomes.responders import ResponderBook, load_responder_rules

ALPHA = 0.01  # a lot is flagged when its excess of adverse events has p below this


def lots(
    session: Session,
    actor: Any,
    *,
    cohort: str | None = None,
    filt: CohortFilter | None = None,
    kind: str = service.DEFAULT_KIND,
    point: str = "6m",
    alpha: float = ALPHA,
    kinds: KindBook | None = None,
    responders: ResponderBook | None = None,
    now: datetime | None = None,
) -> SafetyReport:
    """Adverse-event rates per product, lot, technique and clinician (exact 95 % CIs), lots
    flagged against the product's other lots, and the outcome by cocktail and protocol."""
    resolved = service.resolve(session, actor, cohort=cohort, filt=filt, today=now)
    kinds = kinds or load_kinds()
    rule = service.rule_for(kind, responders or load_responder_rules())
    with scratch(session) as tables:
        members = service.members(tables, resolved)
        rates = safety_queries.derived_lot_rates if tables.derived else safety_queries.lot_rates
        lot_rows = session.execute(rates(members)).mappings().all()
        flags, rules = _lot_flags(lot_rows, alpha)
        per_lot = [
            evidence.rate_row(
                r["lot"],
                r["patients"],
                r["exposures"],
                r["events"],
                product=r["product"],
                recalled=bool(r["recalled"]),
                flag=flags.get((r["product"], r["lot"]), (False, None)),
            )
            for r in lot_rows
        ]
        # One outcome table serves both groupings.
        changes = service.outcomes(tables, members, kind, rule, joined=True)
        grouped = {
            by: service.grouped_summary(
                session, resolved, members, changes, by=by, kind=kind, point=point, kinds=kinds,
                now=now,
            )
            for by in ("cocktail", "protocol")
        }  # fmt: skip
        report = SafetyReport(
            cohort=resolved.name,
            description=resolved.words,
            alpha=alpha,
            signal_method=signal_words(alpha, bool(rules)),
            products=_rates(session, members, "product", tables.derived),
            lots=per_lot,
            techniques=_rates(session, members, "technique", tables.derived),
            clinicians=_rates(session, members, "clinician", tables.derived),
            outcome_by_cocktail=grouped["cocktail"],
            outcome_by_protocol=grouped["protocol"],
        )
    service.record_read(session, actor, "lots", resolved, kind=kind, time_point=point)
    return report


def signal_words(alpha: float, any_lot: bool) -> str:
    """The lot test in one sentence (each flagged lot's reason gives its own figures)."""
    if not any_lot:
        return "no session of this cohort drew on a recorded lot"
    return (
        "a one-sided Fisher exact test of each lot against the same product's other lots "
        f"pooled, flagged when p is below {alpha:g} divided by the number of the product's "
        "lots with at least 10 sessions (Bonferroni)"
    )


def _lot_flags(
    rows: Any, alpha: float
) -> tuple[dict[tuple[str, str], tuple[bool, str | None]], list[str]]:
    """Each lot's signal, judged against the other lots of the same product, and the tests'
    rules in words (one per product)."""
    by_product: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for r in rows:
        by_product[r["product"]].append((r["lot"], int(r["events"]), int(r["exposures"])))
    flags: dict[tuple[str, str], tuple[bool, str | None]] = {}
    rules: list[str] = []
    for product, lot_counts in by_product.items():
        for signal in signals.lot_signals(lot_counts, alpha):
            reason = (
                f"{signal.events} sessions with an adverse event where the product's other "
                f"lots' rate predicts {signal.expected:.1f} (p = {signal.p_value:.2g})"
            )
            flags[(product, signal.lot)] = (signal.flagged, reason if signal.flagged else None)
            rules.append(f"{product}: {signal.rule}")
    return flags, sorted(set(rules))


def _rates(session: Session, members: Any, by: str, derived: bool) -> list[RateRow]:
    rates = safety_queries.derived_session_rates if derived else safety_queries.session_rates
    rows = session.execute(rates(members, by)).mappings()
    return [evidence.rate_row(r["name"], r["patients"], r["exposures"], r["events"]) for r in rows]


def by_stage(
    session: Session,
    actor: Any,
    *,
    cohort: str | None = None,
    filt: CohortFilter | None = None,
    kind: str = service.DEFAULT_KIND,
    point: str = "6m",
    kinds: KindBook | None = None,
    responders: ResponderBook | None = None,
    rulebook: Rulebook | None = None,
    now: datetime | None = None,
) -> StageReport:
    """Response at one time point per diagnosis and stage, and pooled under each candidacy
    rule that selects patients by diagnosis and stage: the evidence beside the rule."""
    tp = time_point(point)
    resolved = service.resolve(session, actor, cohort=cohort, filt=filt, today=now)
    service.measure(kind, kinds or load_kinds())
    rule = service.rule_for(kind, responders or load_responder_rules())
    with scratch(session) as tables:
        members = service.members(tables, resolved)
        changes = service.outcomes(tables, members, kind, rule, joined=True)
        rows = session.execute(queries.moments(members, changes, "stage")).mappings().all()
    counts = evidence.stage_counts(rows, tp.key)
    book = rulebook or get_rulebook()
    report = StageReport(
        cohort=resolved.name,
        description=resolved.words,
        kind=kind,
        time_point=tp.key,
        responder_rule=rule.label if rule else None,
        stages=[evidence.stage_row(c) for c in counts],
        rules=evidence.rule_evidence(book.candidacy, counts),
        rulebook_version=book.version,
    )
    service.record_read(session, actor, "by-stage", resolved, kind=kind, time_point=tp.key)
    return report
