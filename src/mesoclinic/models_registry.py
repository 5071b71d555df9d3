"""The complete ORM metadata (for Alembic, backups and tests): every area's tables loaded."""

from mesoclinic import areas
from mesoclinic.db import Base

areas.load_models()
metadata = Base.metadata
__all__ = ["metadata"]
