"""The day-of-visit re-screen: contraindications come from the assessment module's engine."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from mesoclinic.assessment import rulebook as assessment_rulebook
from mesoclinic.assessment import rules as assessment_rules
from mesoclinic.assessment import service as assessment_service
from mesoclinic.findings import Finding
from mesoclinic.formulary.models import Cocktail
from mesoclinic.patients.models import Patient


def contraindications(session: Session, patient: Patient, cocktail: Cocktail,
                      on_date: date) -> list[Finding]:
    """Contraindications as they stand on the visit date, for this cocktail's ingredients."""
    ingredients = tuple(line.ingredient.name for line in cocktail.lines)
    drugs = tuple(line.ingredient.name for line in cocktail.lines
                  if line.ingredient.category == "drug" or line.ingredient.prescription_only)
    facts = assessment_service.facts_from_record(session, patient, on_date=on_date,
                                                 cocktail_ingredients=ingredients, drugs=drugs)
    return list(assessment_rules.check_contraindications(facts,
                                                         assessment_rulebook.get_rulebook()))
