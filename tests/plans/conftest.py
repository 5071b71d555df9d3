"""Fixtures for the plans tests (shared helpers are in plan_support.py)."""

from __future__ import annotations

from typing import Any

import pytest

from plans.plan_support import make_treatable


@pytest.fixture
def treatable(world: Any) -> Any:
    """The world with patient A consented and assessed, so plans pass the treatment gate."""
    make_treatable(world, world.patient_a)
    return world
