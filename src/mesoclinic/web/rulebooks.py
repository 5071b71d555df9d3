"""Route dependencies handing services the clinic's rulebooks, each located through Settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mesoclinic.aftercare import rulebook as aftercare_rulebook
from mesoclinic.assessment.gate import clinic_rulebook
from mesoclinic.assessment.rulebook import Rulebook
from mesoclinic.security.deps import SettingsDep
from mesoclinic.visits.rulebook import VisitRulebook, get_visit_rulebook
from mesoclinic.visits.service import Rulebooks


def screening_rulebook(settings: SettingsDep) -> Rulebook:
    """Candidacy and contraindication rules (Settings.rulebook)."""
    return clinic_rulebook(settings.rulebook)


def visit_rulebook(settings: SettingsDep) -> VisitRulebook:
    """Dose, needle and precaution limits (Settings.visit_rulebook)."""
    return get_visit_rulebook(settings.visit_rulebook)


def aftercare_rules(settings: SettingsDep) -> aftercare_rulebook.AftercareRulebook:
    """Aftercare precautions (Settings.aftercare_rulebook)."""
    return aftercare_rulebook.load(settings.aftercare_rulebook)


def visit_check_rules(
    screening: Annotated[Rulebook, Depends(screening_rulebook)],
    visit: Annotated[VisitRulebook, Depends(visit_rulebook)],
) -> Rulebooks:
    """Both rulebooks a visit is checked against."""
    return Rulebooks(visit=visit, screening=screening)


ScreeningRules = Annotated[Rulebook, Depends(screening_rulebook)]
VisitCheckRules = Annotated[Rulebooks, Depends(visit_check_rules)]
AftercareRules = Annotated[aftercare_rulebook.AftercareRulebook, Depends(aftercare_rules)]
