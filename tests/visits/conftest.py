"""A small formulary and stock in clinic A, and a consented patient, for the visit tests
(the world of tests/stock_support.py, shared with the drills and the multi-server test)."""

from __future__ import annotations

from typing import Any

import pytest

from stock_support import Stock, stock_clinic
from stock_support import visit_body as body_of


@pytest.fixture
def stocked(world: Any) -> Stock:
    """Vitamin and dutasteride cocktails with lots in clinic A; patient A has consented."""
    return stock_clinic(world)


def _visit_body(patient: Any, cocktail: Any, lot: Any, **overrides: Any) -> dict[str, Any]:
    """A typical, safe visit: 3 mL in 60 points of 0.05 mL at 1.5 mm."""
    return body_of(patient.id, cocktail.id, lot.id, **overrides)


@pytest.fixture
def visit_body() -> Any:
    """Build a visit request body: visit_body(patient, cocktail, lot, **overrides)."""
    return _visit_body
