"""Values and kind names as a reader sees them on the Outcomes tab."""

from __future__ import annotations

import pytest

from mesoclinic.outcomes import display


@pytest.mark.parametrize(
    ("value", "text"),
    [(285.073, "285.1"), (140.3, "140.3"), (28.0, "28"), (0.0, "0"), (1.217, "1.22"), (-2.0, "-2")],
)
def test_values_keep_the_precision_they_carry(value: float, text: str) -> None:
    assert display.number(value) == text


def test_rulebook_labels_use_proper_unit_symbols() -> None:
    assert display.label_words("Hair density, terminal (shaft >= 40 um)") == (
        "Hair density, terminal (shaft ≥ 40 µm)"
    )
    assert display.label_words("Follicular units per cm2") == "Follicular units per cm²"
    assert display.label_words(
        "Global photographic assessment (-3 much worse .. +3 much better)"
    ) == ("Global photographic assessment (-3 much worse to +3 much better)")
    assert display.label_words("Hair pull test (hairs out of ~60 grasped)") == (
        "Hair pull test (hairs out of ~60 grasped)"
    )
