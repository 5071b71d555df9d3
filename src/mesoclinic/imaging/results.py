"""Frozen result types of the trichoscopy analysis, with their JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Detector = Literal["cnn", "mlp"]
DETECTORS: tuple[Detector, ...] = ("cnn", "mlp")
DEFAULT_DETECTOR: Detector = "cnn"
# Every result names the exact detector and rescoring weights that produced it. 0.4.0 finds
# each image's overlays (overlays-1) instead of cutting a fixed band; results stored by
# earlier versions keep the string they were made with (e.g. "mesoclinic-trichoscopy 0.3.1
# (exit-cnn-2, rescore-cnn-2)") and stay readable; new jobs run one of these.
ALGORITHM_VERSIONS: dict[Detector, str] = {
    "cnn": "mesoclinic-trichoscopy 0.4.0 (exit-cnn-2, rescore-cnn-3, overlays-1)",
    "mlp": "mesoclinic-trichoscopy 0.4.0 (exit-mlp-1, rescore-4, overlays-1)",
}
ALGORITHM_VERSION = ALGORITHM_VERSIONS["cnn"]  # the default detector's


def known_versions() -> dict[str, Detector]:
    """Algorithm version strings this build can run, with the detector that produces each."""
    return {version: detector for detector, version in ALGORITHM_VERSIONS.items()}


@dataclass(frozen=True)
class Calibration:
    """Pixels per millimetre of the source image; assumed when it comes from a nominal field."""

    px_per_mm: float
    assumed: bool = False
    source: str = "given"


@dataclass(frozen=True)
class Roi:
    """Region of interest in source pixels, x0 and y0 inclusive, x1 and y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int
    # True for a device profile's fixed overlay cut: the analysis then looks for the image's
    # own overlays and uses this rectangle only when that detection is unsure.
    detect_overlays: bool = False

    @property
    def area_px(self) -> int:
        """Pixel area (zero when inverted)."""
        return max(self.x1 - self.x0, 0) * max(self.y1 - self.y0, 0)


@dataclass(frozen=True)
class Hair:
    """One detected hair: exit point, direction from the exit along the shaft, size."""

    x: float
    y: float
    angle_deg: float
    length_px: float
    width_px: float | None  # None when no width profile could be measured
    score: float
    diameter_um: float | None = None
    terminal: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (rounded)."""
        return {
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "angle_deg": round(self.angle_deg, 1),
            "length_px": round(self.length_px, 1),
            "width_px": None if self.width_px is None else round(self.width_px, 1),
            "diameter_um": None if self.diameter_um is None else round(self.diameter_um, 1),
            "terminal": self.terminal,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class FollicularUnit:
    """Hairs sharing one exit opening: centre and number of hairs."""

    x: float
    y: float
    hair_count: int


@dataclass(frozen=True)
class Quality:
    """Image-quality measures and the flags they raise; usable is False when any flag is set."""

    sharpness: float
    overexposed_fraction: float
    skin_fraction: float
    flags: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        """True when no quality flag is raised."""
        return not self.flags

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "usable": self.usable,
            "flags": list(self.flags),
            "sharpness": round(self.sharpness, 4),
            "overexposed_fraction": round(self.overexposed_fraction, 4),
            "skin_fraction": round(self.skin_fraction, 4),
        }


@dataclass(frozen=True)
class TrichoscopyResult:
    """Everything measured on one trichoscopy image."""

    hairs: tuple[Hair, ...]
    follicular_units: tuple[FollicularUnit, ...]
    empty_openings: tuple[tuple[float, float], ...]
    quality: Quality
    analysed_area_mm2: float | None
    calibration: Calibration | None
    algorithm_version: str = ALGORITHM_VERSION
    terminal_threshold_um: float = 40.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hair_count(self) -> int:
        """Number of detected hairs."""
        return len(self.hairs)

    @property
    def density_per_cm2(self) -> float | None:
        """Hairs per cm2 of analysed area; None without calibration."""
        if not self.analysed_area_mm2:
            return None
        return self.hair_count / (self.analysed_area_mm2 / 100.0)

    @property
    def terminal_count(self) -> int | None:
        """Hairs at or above the terminal diameter; None without calibration. Hairs whose
        width could not be measured are neither terminal nor vellus."""
        if self.calibration is None:
            return None
        return sum(1 for hair in self.hairs if hair.terminal)

    @property
    def vellus_count(self) -> int | None:
        """Hairs below the terminal diameter; None without calibration."""
        if self.calibration is None:
            return None
        return sum(1 for hair in self.hairs if hair.terminal is False)

    @property
    def mean_diameter_um(self) -> float | None:
        """Mean shaft diameter in micrometres; None without calibration or hairs."""
        diameters = [h.diameter_um for h in self.hairs if h.diameter_um is not None]
        return sum(diameters) / len(diameters) if diameters else None

    @property
    def cumulative_thickness_mm_per_cm2(self) -> float | None:
        """Sum of shaft diameters (mm) per cm2: the 'hair mass' of TrichoScan-class tools."""
        density = self.density_per_cm2
        mean = self.mean_diameter_um
        if density is None or mean is None:
            return None
        return density * mean / 1000.0

    def unit_histogram(self) -> dict[str, int]:
        """Follicular units by size: '1', '2', '3+' hairs."""
        histogram = {"1": 0, "2": 0, "3+": 0}
        for unit in self.follicular_units:
            histogram["3+" if unit.hair_count >= 3 else str(unit.hair_count)] += 1
        return histogram

    def to_dict(self, image: str | None = None) -> dict[str, Any]:
        """The JSON object printed by `mesoclinic analyze --json`."""
        density = self.density_per_cm2
        mean = self.mean_diameter_um
        thickness = self.cumulative_thickness_mm_per_cm2
        calibration = self.calibration
        return {
            "image": image,
            "hair_count": self.hair_count,
            "hairs": [hair.to_dict() for hair in self.hairs],
            "density_per_cm2": None if density is None else round(density, 1),
            "density_assumed": bool(calibration and calibration.assumed),
            "px_per_mm": None if calibration is None else round(calibration.px_per_mm, 2),
            "analysed_area_mm2": None
            if self.analysed_area_mm2 is None
            else round(self.analysed_area_mm2, 3),
            "terminal_count": self.terminal_count,
            "vellus_count": self.vellus_count,
            "terminal_threshold_um": self.terminal_threshold_um,
            "mean_diameter_um": None if mean is None else round(mean, 1),
            "cumulative_thickness_mm_per_cm2": None if thickness is None else round(thickness, 2),
            "follicular_units": self.unit_histogram(),
            "empty_openings": len(self.empty_openings),
            "quality": self.quality.to_dict(),
            "algorithm_version": self.algorithm_version,
        }


@dataclass(frozen=True)
class HairGrowth:
    """One hair followed across two images of a clipped site."""

    x: float
    y: float
    length_before_px: float
    length_after_px: float
    anagen: bool


@dataclass(frozen=True)
class GrowthResult:
    """Anagen/telogen classification from two registered images."""

    shift_x_px: float
    shift_y_px: float
    hairs: tuple[HairGrowth, ...]
    unmatched_before: int
    min_growth_px: float
    algorithm_version: str = ALGORITHM_VERSION

    @property
    def anagen_count(self) -> int:
        """Hairs that grew by at least min_growth_px."""
        return sum(1 for hair in self.hairs if hair.anagen)

    @property
    def telogen_count(self) -> int:
        """Hairs that did not grow (or disappeared, i.e. were shed)."""
        return len(self.hairs) - self.anagen_count + self.unmatched_before

    @property
    def anagen_ratio(self) -> float | None:
        """Anagen share of all followed hairs; None when there are none."""
        total = self.anagen_count + self.telogen_count
        return self.anagen_count / total if total else None
