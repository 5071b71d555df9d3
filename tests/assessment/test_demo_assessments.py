"""The demo clinic's assessments follow each storyline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mesoclinic.assessment.models import Assessment, DecisionOverride
from mesoclinic.patients.models import Patient


def test_demo_assessments_follow_the_storylines(app: Any, db: Any, demo: Any) -> None:
    with db.factory() as s, s.begin():
        storyline = demo.storyline
        rows = s.execute(select(Assessment).join(Patient)).scalars().all()
        by_story: dict[str, list[Assessment]] = {}
        for a in rows:
            if a.patient_id in storyline:  # not the analytics demo's past courses
                by_story.setdefault(storyline[a.patient_id], []).append(a)
        assert {a.candidacy for a in by_story["advanced_aga"]} == {"not_recommended"}
        assert all(
            any(c["rule_id"] == "contra.pregnancy" for c in a.decision["contraindications"])
            for a in by_story["pregnant"]
        )
        assert all(a.decision["blocked"] for a in by_story["pregnant"])
        assert {a.candidacy for a in by_story["alopecia_areata"]} == {"caution"}
        assert {a.candidacy for a in by_story["telogen_effluvium"]} == {"recommended"}
        assert len(by_story["telogen_effluvium"]) == 2 * sum(
            1 for story in storyline.values() if story == "telogen_effluvium"
        )
        overrides = s.execute(select(DecisionOverride)).scalars().all()
        assert [o.rule_id for o in overrides] == ["contra.anticoagulants"]
        assert len(demo.extra["assessment_decisions"]) == len(storyline)
