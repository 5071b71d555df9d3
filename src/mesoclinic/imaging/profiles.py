"""Device profiles (magnification, px/mm, overlay regions) loaded from packaged YAML."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from mesoclinic.imaging.results import Calibration, Roi

PROFILES_FILE = "profiles.yaml"


class ProfileError(ValueError):
    """A device profile that is unknown or malformed."""


@dataclass(frozen=True)
class DeviceProfile:
    """Optics and overlays of one trichoscope model."""

    name: str
    description: str
    magnification: float
    image_width_px: int
    image_height_px: int
    field_width_mm: float
    calibration_assumed: bool
    excluded_regions: tuple[Roi, ...]
    # Look for each image's own overlays (imaging.overlays) and use the fixed cut only as
    # the fallback when that detection is unsure.
    detect_overlays: bool = False

    def calibration_for(self, source_width: int) -> Calibration:
        """Pixels per mm for an image of this device, scaled if it was resized."""
        px_per_mm = self.image_width_px / self.field_width_mm * source_width / self.image_width_px
        return Calibration(px_per_mm, assumed=self.calibration_assumed, source=self.name)

    def roi_for(self, source_width: int, source_height: int) -> Roi:
        """The largest rectangle left after cutting full-width overlay bars at top or bottom
        (marked as a fallback for per-image overlay detection when the profile asks for it)."""
        scale = source_width / self.image_width_px
        top, bottom = 0, source_height
        for region in self.excluded_regions:
            y0, y1 = int(region.y0 * scale), int(region.y1 * scale)
            if y0 <= top:
                top = max(top, y1)
            elif y1 >= bottom:
                bottom = min(bottom, y0)
        return Roi(0, top, source_width, bottom, detect_overlays=self.detect_overlays)


def _parse(name: str, raw: dict[str, Any]) -> DeviceProfile:
    try:
        regions = tuple(
            Roi(int(x0), int(y0), int(x1), int(y1))
            for x0, y0, x1, y1 in raw.get("excluded_regions", [])
        )
        profile = DeviceProfile(
            name=name,
            description=str(raw.get("description", "")).strip(),
            magnification=float(raw["magnification"]),
            image_width_px=int(raw["image_width_px"]),
            image_height_px=int(raw["image_height_px"]),
            field_width_mm=float(raw["field_width_mm"]),
            calibration_assumed=raw.get("calibration", "assumed") != "measured",
            excluded_regions=regions,
            detect_overlays=raw.get("overlays", "fixed") == "detect",
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"device profile {name!r} is malformed: {error}") from error
    if raw.get("overlays", "fixed") not in ("fixed", "detect"):
        raise ProfileError(f"device profile {name!r}: overlays must be 'fixed' or 'detect'")
    if profile.field_width_mm <= 0 or profile.image_width_px <= 0:
        raise ProfileError(f"device profile {name!r} needs positive sizes")
    return profile


def parse_profiles(text: str) -> dict[str, DeviceProfile]:
    """Validate and parse a profiles YAML document."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), dict):
        raise ProfileError("profiles YAML needs a 'profiles' mapping")
    return {str(name): _parse(str(name), raw) for name, raw in document["profiles"].items()}


@lru_cache(maxsize=1)
def bundled_profiles() -> dict[str, DeviceProfile]:
    """Profiles shipped with the package."""
    text = resources.files("mesoclinic.imaging").joinpath(PROFILES_FILE).read_text("utf-8")
    return parse_profiles(text)


def get_profile(name: str) -> DeviceProfile:
    """A bundled profile by name, or ProfileError listing the known names."""
    profiles = bundled_profiles()
    if name not in profiles:
        raise ProfileError(f"unknown device profile {name!r}; known: {', '.join(sorted(profiles))}")
    return profiles[name]
