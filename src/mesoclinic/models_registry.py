"""Imports every area's ORM models so the metadata (for Alembic and tests) is complete."""

from mesoclinic.assessment import models as assessment_models
from mesoclinic.db import Base
from mesoclinic.patients import models as patients_models
from mesoclinic.plans import models as plans_models  # noqa: F401
from mesoclinic.security import models as security_models

metadata = Base.metadata
__all__ = ["assessment_models", "metadata", "patients_models", "security_models"]
