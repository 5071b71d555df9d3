"""Trichoscopy image analysis: hair counts, density, diameters, follicular units, growth."""

from mesoclinic.imaging.analysis import AnalysisParams, analyze_image
from mesoclinic.imaging.loading import ImageLoadError, LoadedImage, load_image
from mesoclinic.imaging.results import (
    ALGORITHM_VERSION,
    Calibration,
    FollicularUnit,
    GrowthResult,
    Hair,
    Quality,
    Roi,
    TrichoscopyResult,
)

__all__ = [
    "ALGORITHM_VERSION",
    "AnalysisParams",
    "Calibration",
    "FollicularUnit",
    "GrowthResult",
    "Hair",
    "ImageLoadError",
    "LoadedImage",
    "Quality",
    "Roi",
    "TrichoscopyResult",
    "analyze_image",
    "load_image",
]
