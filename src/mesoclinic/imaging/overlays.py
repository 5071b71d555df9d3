"""Burnt-in device overlays found per image: text bars, scale marker, measurement circle.

Trichoscopes burn annotations into some of their images: a bar of grey text boxes across the
top (about 32 or 44 source rows of a 1280x1024 FDU frame), a uniform light-grey bar across the
bottom, an L-shaped "1.0 mm" scale marker (two 1 px dark lines and a grey label box) and a red
measurement circle. Most images carry none. A fixed band cut from every image drops real
hairs where there is no bar and misses overlays inside the field, so each image is looked at:

* bars: full-width rows at the top (mostly grey text boxes) or bottom (one uniform grey) are
  cut, as the region of interest's top and bottom;
* inside the field, overlay pixels (text boxes, the marker's straight lines, the red circle)
  and a small margin around them are masked: a detection there is dropped, while the hairs
  around them are kept.

When the top rows look partly like a bar (between the two thresholds), the detection is
`sure=False` and the caller falls back to the device profile's fixed cut. Pure NumPy/SciPy,
about 5 ms on the working grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

# Top bar: share of grey text-box pixels in the fourth-fullest of the top rows; between
# UNSURE_SHARE and BAR_SHARE the detection is unsure (the caller uses the fixed cut).
BAR_SHARE = 0.40
UNSURE_SHARE = 0.30
EDGE_SHARE = 0.20
# At most this share of the image height is searched for a bar at the top or bottom.
BAR_SEARCH = 0.12
# Margin (working px) cut below a top bar / above a bottom bar and around in-field overlays.
BAR_MARGIN = 2
MASK_MARGIN = 4
# A marker line: a 1-2 px dark line, axis-parallel, at least this long (working px).
LINE_MIN_LENGTH = 60
LINE_CONTRAST = 30.0


@dataclass(frozen=True)
class Overlays:
    """Overlays of one image on its working grid."""

    top: int  # first row below a top bar (0: none)
    bottom: int  # first row of a bottom bar (the image height: none)
    mask: NDArray[np.bool_]  # in-field overlay pixels with their margin
    sure: bool  # False: the top rows look partly like a bar; use the fixed cut
    kinds: tuple[str, ...]  # what was found: "top_bar", "bottom_bar", "text", "line", "circle"

    def valid(self) -> NDArray[np.bool_]:
        """Working-grid pixels outside every detected overlay."""
        valid = ~self.mask
        valid[: self.top] = False
        valid[self.bottom :] = False
        return valid


@dataclass(frozen=True)
class _Planes:
    """Per-pixel brightness (max of R, G, B), colour spread (max - min) and the channels."""

    red: NDArray[np.int16]
    green: NDArray[np.int16]
    blue: NDArray[np.int16]
    value: NDArray[np.int16]
    spread: NDArray[np.int16]

    @classmethod
    def of(cls, work: NDArray[np.uint8]) -> _Planes:
        red, green, blue = (np.asarray(work[..., i], dtype=np.int16) for i in range(3))
        value = np.maximum(np.maximum(red, green), blue)
        spread = value - np.minimum(np.minimum(red, green), blue)
        return cls(red, green, blue, value, spread)


def _grey_pixels(planes: _Planes) -> NDArray[np.bool_]:
    """Neutral (colourless) dark-grey pixels, as the device draws its text boxes."""
    return (planes.spread <= 12) & (planes.value >= 40) & (planes.value <= 115)


def _white_pixels(planes: _Planes) -> NDArray[np.bool_]:
    """Neutral white pixels (the device's text)."""
    return (planes.spread <= 12) & (planes.value >= 200)


def _top_bar(grey: NDArray[np.bool_], search: int) -> tuple[int, bool]:
    """First row below a top text bar, and whether the decision was clear.

    A bar has at least four rows mostly made of grey text boxes (share >= BAR_SHARE; on
    the FDU tuning images bar rows hold 0.33-0.8, skin rows at most 0.26); it runs down from
    its first such row while rows hold at least EDGE_SHARE (its box edges)."""
    share = grey[:search].mean(axis=1)
    strong = np.sort(share)[-4] if len(share) >= 4 else 0.0
    if strong < UNSURE_SHARE:
        return 0, True
    if strong < BAR_SHARE:
        return 0, False
    row = int(np.nonzero(share >= BAR_SHARE)[0][0])
    while row < len(share) and share[row] >= EDGE_SHARE:
        row += 1
    return min(row + BAR_MARGIN, search), True


def _bottom_bar(planes: _Planes, search: int) -> int:
    """First row of a uniform full-width bar at the bottom (the height when there is none)."""
    height = int(planes.value.shape[0])
    value = planes.value[height - search :]
    median = np.median(value, axis=1)
    uniform = (np.abs(value - median[:, None]) <= 8) & (planes.spread[height - search :] <= 12)
    bar = (uniform.mean(axis=1) >= 0.9) & (median >= 150)
    # Contiguous bar rows up from the last row.
    rows = int(np.argmin(bar[::-1])) if not bar.all() else search
    return height - rows - BAR_MARGIN if rows else height


def _text_boxes(planes: _Planes) -> NDArray[np.bool_]:
    """Filled, axis-aligned dark-grey label boxes holding light text (e.g. "1.0 mm").

    Small boxes carry JPEG colour fringes, so greys and whites are taken loosely here and a
    box must be a near-rectangle of box size holding some light text."""
    box_grey = (planes.spread <= 25) & (planes.value >= 20) & (planes.value <= 115)
    light = (planes.value - planes.spread >= 150) & (planes.value >= 170)
    # Mostly grey around each pixel: the box with its text (anti-aliased letters included).
    closed = ndi.uniform_filter(box_grey.astype(np.float32), size=5) >= 0.5
    labels, count = ndi.label(closed)
    boxes = np.zeros(closed.shape, dtype=bool)
    for index, found in enumerate(ndi.find_objects(labels), start=1):
        if found is None:
            continue
        rows, cols = found
        h, w = rows.stop - rows.start, cols.stop - cols.start
        if not (8 <= h <= 30 and 20 <= w <= 200):
            continue
        region = labels[found] == index
        inside_light = light[found].mean()
        if region.mean() < 0.6 or not 0.05 <= inside_light <= 0.5:
            continue
        boxes[found] = True
    return boxes


def _marker_lines(value: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Long 1-2 px dark straight lines along a row or a column (the scale marker's arms)."""
    lines = np.zeros(value.shape, dtype=bool)
    for axis in (0, 1):
        # Darker than the pixels 2 px to either side across the line.
        before = np.roll(value, 2, axis=1 - axis)
        after = np.roll(value, -2, axis=1 - axis)
        dark = (value < before - LINE_CONTRAST) & (value < after - LINE_CONTRAST)
        # Longest run along the line's direction, per row (axis=1) or column (axis=0).
        run = dark if axis == 1 else dark.T
        for index in np.nonzero(run.sum(axis=1) >= LINE_MIN_LENGTH)[0]:
            line = run[index]
            labels, count = ndi.label(ndi.binary_closing(line, np.ones(3, dtype=bool)))
            for found in ndi.find_objects(labels):
                if found is None or found[0].stop - found[0].start < LINE_MIN_LENGTH:
                    continue
                if axis == 1:
                    lines[index, found[0]] = True
                else:
                    lines[found[0], index] = True
    return lines


def _red_circle(planes: _Planes) -> NDArray[np.bool_]:
    """Saturated red drawing (the measurement circle): red well above green and blue."""
    red = (planes.red >= 140) & (planes.red - np.maximum(planes.green, planes.blue) >= 70)
    if red.sum() < 20:
        return np.zeros(red.shape, dtype=bool)
    labels, count = ndi.label(red, np.ones((3, 3), dtype=bool))
    sizes = ndi.sum(red, labels, range(1, count + 1))
    return np.isin(labels, np.nonzero(sizes >= 20)[0] + 1)


def find_overlays(work: NDArray[np.uint8]) -> Overlays:
    """Overlays of one working-grid RGB image (about 640 px wide)."""
    planes = _Planes.of(work)
    height = planes.value.shape[0]
    search = max(1, round(height * BAR_SEARCH))
    grey = _grey_pixels(planes)
    top, sure = _top_bar(grey, search)
    bottom = _bottom_bar(planes, search)
    kinds = []
    if top:
        kinds.append("top_bar")
    if bottom < height:
        kinds.append("bottom_bar")
    field = np.zeros(grey.shape, dtype=bool)
    field[top:bottom] = True
    boxes = _text_boxes(planes) & field
    lines = _marker_lines(planes.value.astype(np.float32)) & field
    circle = _red_circle(planes) & field
    for kind, found in (("text", boxes), ("line", lines), ("circle", circle)):
        if found.any():
            kinds.append(kind)
    overlay = boxes | lines | circle
    if overlay.any():
        size = 2 * MASK_MARGIN + 1
        overlay = ndi.maximum_filter(overlay.view(np.uint8), size=size).astype(bool)
    return Overlays(top, bottom, overlay, sure, tuple(kinds))
