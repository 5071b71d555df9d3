"""Image-quality flags: blurred, over-exposed, too little skin in the region of interest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from mesoclinic.imaging.results import Quality
from mesoclinic.imaging.segmentation import ShaftMaps


@dataclass(frozen=True)
class QualityLimits:
    """Where each flag fires.

    Sharpness is the Laplacian spread of skin-normalised brightness on the working grid.
    Tuning-split FDU images range 0.018-0.052 (median 0.035); the same images blurred by a
    2 px Gaussian fall to about 0.005, so the limit sits between.
    """

    min_sharpness: float = 0.008
    max_overexposed_fraction: float = 0.10
    min_skin_fraction: float = 0.35


def assess_quality(
    rgb: NDArray[np.uint8],
    maps: ShaftMaps,
    valid: NDArray[np.bool_],
    limits: QualityLimits,
) -> Quality:
    """Measure sharpness, over-exposure and skin share inside the valid region (maps: the
    shaft maps of the same image)."""
    value = maps.value
    inside = value[valid]
    if inside.size == 0:
        return Quality(0.0, 0.0, 0.0, ("no_region",))
    skin_level = max(float(np.percentile(inside[::7], 75)), 1.0)
    laplacian = ndi.laplace(ndi.gaussian_filter(value / skin_level, 0.7))
    sharpness = float(np.std(laplacian[valid]))
    saturated = np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2]) >= 250
    overexposed = float(saturated[valid].mean())
    dark = value < 0.25 * 255
    skin = valid & ~maps.mask & ~saturated & ~dark
    skin_fraction = float(skin.sum() / valid.sum())
    flags = []
    if sharpness < limits.min_sharpness:
        flags.append("blurred")
    if overexposed > limits.max_overexposed_fraction:
        flags.append("overexposed")
    if skin_fraction < limits.min_skin_fraction:
        flags.append("too_little_skin")
    return Quality(sharpness, overexposed, skin_fraction, tuple(flags))
