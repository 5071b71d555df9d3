"""Imports every area's ORM models so the metadata (for Alembic and tests) is complete."""

from mesoclinic.aftercare import models as aftercare_models
from mesoclinic.assessment import models as assessment_models
from mesoclinic.db import Base
from mesoclinic.formulary import models as formulary_models
from mesoclinic.patients import models as patients_models
from mesoclinic.plans import models as plans_models  # noqa: F401
from mesoclinic.security import models as security_models
from mesoclinic.visits import models as visits_models

metadata = Base.metadata
__all__ = [
    "aftercare_models",
    "assessment_models",
    "formulary_models",
    "metadata",
    "patients_models",
    "security_models",
    "visits_models",
]
