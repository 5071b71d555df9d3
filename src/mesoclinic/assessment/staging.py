"""Diagnoses with their codes, staging scales, and the SALT score (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Diagnosis = Literal[
    "telogen_effluvium",
    "androgenetic_alopecia",
    "female_pattern_hair_loss",
    "alopecia_areata",
    "scarring_alopecia",
    "other",
]
Scale = Literal["norwood_hamilton", "ludwig", "sinclair", "salt"]
DIAGNOSES: tuple[str, ...] = (
    "telogen_effluvium",
    "androgenetic_alopecia",
    "female_pattern_hair_loss",
    "alopecia_areata",
    "scarring_alopecia",
    "other",
)
SCALES: tuple[str, ...] = ("norwood_hamilton", "ludwig", "sinclair", "salt")


@dataclass(frozen=True)
class DiagnosisCode:
    label: str
    icd10: str
    snomed: str
    snomed_display: str


# SNOMED concepts are those listed in docs/clinical-sources.md#fhir-coding; where it names no
# specific concept the parent "alopecia" concept is used rather than an unverified code.
DIAGNOSIS_CODES: dict[str, DiagnosisCode] = {
    "telogen_effluvium": DiagnosisCode("Telogen effluvium", "L65.0", "278040002", "Loss of hair"),
    "androgenetic_alopecia": DiagnosisCode(
        "Androgenetic alopecia", "L64.9", "87872006", "Male pattern alopecia"
    ),
    "female_pattern_hair_loss": DiagnosisCode(
        "Female pattern hair loss", "L64.8", "1108009", "Female pattern alopecia"
    ),
    "alopecia_areata": DiagnosisCode("Alopecia areata", "L63.9", "56317004", "Alopecia"),
    "scarring_alopecia": DiagnosisCode(
        "Scarring (cicatricial) alopecia", "L66.9", "56317004", "Alopecia"
    ),
    "other": DiagnosisCode("Other hair loss", "L65.9", "56317004", "Alopecia"),
}

SCALE_GRADES: dict[str, tuple[str, ...]] = {
    "norwood_hamilton": (
        "I",
        "II",
        "IIa",
        "III",
        "IIIa",
        "III-vertex",
        "IV",
        "IVa",
        "V",
        "Va",
        "VI",
        "VII",
    ),
    "ludwig": ("I", "II", "III"),
    "sinclair": ("1", "2", "3", "4", "5"),
}
SCALE_LABELS: dict[str, str] = {
    "norwood_hamilton": "Norwood-Hamilton",
    "ludwig": "Ludwig",
    "sinclair": "Sinclair",
    "salt": "SALT",
}
# Pattern scales describe one sex's pattern of loss; SALT (alopecia areata) fits everyone.
SCALE_SEXES: dict[str, frozenset[str]] = {
    "norwood_hamilton": frozenset({"male", "other", "unknown"}),
    "ludwig": frozenset({"female", "other", "unknown"}),
    "sinclair": frozenset({"female", "other", "unknown"}),
    "salt": frozenset({"female", "male", "other", "unknown"}),
}
SALT_WEIGHTS: dict[str, float] = {"vertex": 0.40, "right": 0.18, "left": 0.18, "back": 0.24}


class StagingError(ValueError):
    """An impossible staging; `field` names the part of the input that is wrong."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def salt_score(regions: Mapping[str, float]) -> float:
    """SALT 0-100 from the percentage of hair lost in each of the four weighted regions."""
    missing = sorted(set(SALT_WEIGHTS) - set(regions))
    if missing:
        raise StagingError(
            f"SALT needs the loss in every region; missing {missing}",
            f"staging.regions.{missing[0]}",
        )
    for region, pct in regions.items():
        if region not in SALT_WEIGHTS:
            raise StagingError(f"unknown SALT region {region!r}", f"staging.regions.{region}")
        if not 0 <= pct <= 100:
            raise StagingError("loss must be 0-100 %", f"staging.regions.{region}")
    return round(sum(SALT_WEIGHTS[r] * regions[r] for r in SALT_WEIGHTS), 1)


def salt_severity(score: float) -> str:
    """SALT severity class S0 (no loss) to S5 (100 % loss)."""
    if score <= 0:
        return "S0"
    if score >= 100:
        return "S5"
    return ("S1", "S2", "S3", "S4")[min(int(score // 25), 3)]


def normalise_grade(scale: str, grade: object) -> str:
    """The canonical grade string for a scale, or StagingError naming `staging.grade`."""
    if scale == "salt":
        try:
            value = float(str(grade))
        except ValueError as exc:
            raise StagingError("SALT grade must be a number 0-100", "staging.grade") from exc
        if not 0 <= value <= 100:
            raise StagingError("SALT grade must be 0-100", "staging.grade")
        return f"{value:g}"
    text = str(grade).strip()
    for candidate in SCALE_GRADES[scale]:
        if candidate.lower() == text.lower():
            return candidate
    allowed = ", ".join(SCALE_GRADES[scale])
    raise StagingError(f"{SCALE_LABELS[scale]} grade must be one of {allowed}", "staging.grade")


def check_scale_for_sex(scale: str, sex: str) -> None:
    """Refuse a sex-specific pattern scale for the other sex."""
    if sex not in SCALE_SEXES[scale]:
        raise StagingError(
            f"the {SCALE_LABELS[scale]} scale is not used for {sex} patients", "staging.scale"
        )


def salt_value(scale: str | None, grade: str | None) -> float | None:
    """The SALT score of a staging, or None when it is not a SALT staging."""
    if scale != "salt" or grade is None:
        return None
    try:
        return float(grade)
    except ValueError:
        return None
