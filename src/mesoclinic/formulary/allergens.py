"""Allergy to a cocktail's ingredients: one pure rule, used when planning and at each visit.

Pure: plain values in, findings out. The visit check refuses on it; planning shows the same
finding as a warning to confirm (the cocktail may change before the first visit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mesoclinic.findings import Finding

ALLERGY_RULE = "allergy.cocktail_ingredient"
SRC_ALLERGY = (
    "docs/clinical-sources.md#contraindications: "
    "allergy to any component of the chosen cocktail (absolute)"
)


@dataclass(frozen=True)
class IngredientFacts:
    name: str
    prescription_only: bool = False
    aliases: tuple[str, ...] = ()


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def check_allergies(
    ingredients: Iterable[IngredientFacts], allergies: Iterable[str]
) -> list[Finding]:
    """Refuse when a recorded allergy names an ingredient (or one of its aliases)."""
    allergic = {_normal(a) for a in allergies if a.strip()}
    findings = []
    for ing in ingredients:
        names = {_normal(ing.name), *(_normal(a) for a in ing.aliases)}
        if hit := sorted(names & allergic):
            findings.append(
                Finding(
                    ALLERGY_RULE,
                    "refuse",
                    f"The patient is allergic to {hit[0]}, an ingredient of this cocktail "
                    f"({ing.name}).",
                    SRC_ALLERGY,
                )
            )
    return findings
