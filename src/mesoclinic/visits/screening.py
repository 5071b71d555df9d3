"""The day-of-visit re-screen: contraindications come from the assessment module's engine."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mesoclinic.assessment.rulebook import Rulebook
from mesoclinic.assessment.rules import check_contraindications
from mesoclinic.assessment.service import facts_from_record
from mesoclinic.findings import Finding
from mesoclinic.formulary.models import Cocktail
from mesoclinic.patients.models import Patient


def contraindications(
    session: Session, patient: Patient, cocktail: Cocktail, on_date: date, rulebook: Rulebook
) -> list[Finding]:
    """Contraindications as they stand on the visit date, for this cocktail's ingredients."""
    ingredients = tuple(line.ingredient.name for line in cocktail.lines)
    drugs = tuple(
        line.ingredient.name for line in cocktail.lines if line.ingredient.category == "drug"
    )
    facts = facts_from_record(
        session, patient, on_date=on_date, cocktail_ingredients=ingredients, drugs=drugs
    )
    return check_contraindications(facts, rulebook)
