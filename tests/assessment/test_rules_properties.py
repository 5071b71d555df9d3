"""Properties over every valid assessment: exactly one candidacy; absolute always blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mesoclinic.assessment.rulebook import load_default_rulebook
from mesoclinic.assessment.rules import CANDIDACY_ORDER, PatientFacts, screen
from mesoclinic.assessment.staging import DIAGNOSES, SCALE_GRADES

RB = load_default_rulebook()
CONDITIONS = (
    "bleeding_disorder",
    "diabetes",
    "heart_failure",
    "kidney_disease",
    "cancer",
    "autoimmune",
    "keloid_tendency",
    "herpes",
    "thyroid",
    "iron_deficiency",
    "other",
)
SUBSTANCES = ("biotin", "zinc", "copper", "lidocaine", "penicillin", "dexpanthenol")


@st.composite
def stagings(draw: st.DrawFn) -> tuple[str | None, str | None]:
    scale = draw(st.sampled_from([None, "norwood_hamilton", "ludwig", "sinclair", "salt"]))
    if scale is None:
        return None, None
    if scale == "salt":
        return scale, f"{draw(st.floats(0, 100, allow_nan=False)):g}"
    return scale, draw(st.sampled_from(SCALE_GRADES[scale]))


@st.composite
def facts(draw: st.DrawFn) -> PatientFacts:
    scale, grade = draw(stagings())
    return PatientFacts(
        sex=draw(st.sampled_from(["female", "male", "other", "unknown"])),
        age_years=draw(st.none() | st.integers(0, 110)),
        pregnant=draw(st.booleans()),
        breastfeeding=draw(st.booleans()),
        allergies=tuple(draw(st.lists(st.sampled_from(SUBSTANCES), max_size=3))),
        anticoagulants=draw(st.booleans()),
        recent_bleeding_risk_supplements=draw(st.booleans()),
        conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=4))),
        scalp_infection=draw(st.booleans()),
        open_wound=draw(st.booleans()),
        herpes_active=draw(st.booleans()),
        may_become_pregnant=draw(st.booleans()),
        diagnosis=draw(st.none() | st.sampled_from(DIAGNOSES)),
        staging_scale=scale,
        staging_grade=grade,
        cocktail_ingredients=tuple(draw(st.lists(st.sampled_from(SUBSTANCES), max_size=4))),
        drugs=tuple(
            draw(st.lists(st.sampled_from(["dutasteride", "finasteride", "minoxidil"]), max_size=2))
        ),
    )


@settings(deadline=None)  # shared CI cores: timing is not the property
@given(facts())
def test_every_assessment_gets_exactly_one_candidacy_with_a_named_rule(f: PatientFacts) -> None:
    decision = screen(f, RB)
    assert decision.candidacy in CANDIDACY_ORDER
    assert decision.candidacy_findings
    assert all(
        x.rule_id and x.reason and x.source
        for x in (*decision.candidacy_findings, *decision.contraindications)
    )
    assert decision.rulebook_version == RB.version


@settings(deadline=None)  # shared CI cores: timing is not the property
@given(facts())
def test_an_absolute_contraindication_always_blocks(f: PatientFacts) -> None:
    decision = screen(f, RB)
    has_absolute = any(x.severity == "absolute" for x in decision.contraindications)
    assert decision.blocked == has_absolute
    if has_absolute:
        assert decision.candidacy == "not_recommended"


@settings(deadline=None)  # shared CI cores: timing is not the property
@given(facts())
def test_relative_contraindication_never_leaves_recommended(f: PatientFacts) -> None:
    decision = screen(f, RB)
    if decision.contraindications:
        assert decision.candidacy != "recommended"


@settings(deadline=None)  # shared CI cores: timing is not the property
@given(facts())
def test_screen_is_deterministic(f: PatientFacts) -> None:
    assert screen(f, RB) == screen(f, RB)
