"""Safe image decoding: size limits before decode, truncation and format errors made explicit.

NumPy and Pillow are imported when an image is decoded: the web app imports this module with the
outcomes pages, and `serve` should not load them before the first image (issue 18).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

MAX_PIXELS = 40_000_000
MAX_FILE_BYTES = 100 * 1024 * 1024
WORK_WIDTH = 640


class ImageLoadError(ValueError):
    """An image file that cannot be analysed, with a message fit for an end user."""


@dataclass(frozen=True)
class LoadedImage:
    """Decoded RGB pixels and how they map back to the file's own pixel grid."""

    pixels: NDArray[np.uint8]
    source_width: int
    source_height: int

    @property
    def source_scale(self) -> float:
        """Source pixels per decoded pixel (2.0 when a JPEG was decoded at half size)."""
        return float(self.source_width / self.pixels.shape[1])


def load_image(
    path: Path, max_pixels: int = MAX_PIXELS, reduce_to_width: int | None = WORK_WIDTH
) -> LoadedImage:
    """Decode an image file as RGB; refuse non-images, truncated files and decompression bombs.

    With reduce_to_width, JPEGs are decoded directly at a reduced DCT scale (much faster); the
    analysis works at about that width anyway.
    """
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImageLoadError(f"cannot read file: {error.strerror or error}") from error
    if size > MAX_FILE_BYTES:
        raise ImageLoadError(f"file is too large ({size} bytes, limit {MAX_FILE_BYTES})")
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _decode(image, max_pixels, reduce_to_width)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageLoadError(f"image is too large to decode safely: {error}") from error
    except UnidentifiedImageError as error:
        raise ImageLoadError("not a readable image (unknown or corrupt format)") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageLoadError(f"image data is truncated or corrupt: {error}") from error


def _decode(image: Image.Image, max_pixels: int, reduce_to_width: int | None) -> LoadedImage:
    import numpy as np
    from PIL import ImageFile

    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageLoadError("image has no pixels")
    if width * height > max_pixels:
        raise ImageLoadError(
            f"image is too large to decode safely ({width}x{height} pixels, limit {max_pixels})"
        )
    if reduce_to_width and image.format == "JPEG" and width >= 2 * reduce_to_width:
        image.draft("RGB", (width // 2, height // 2))
    # Other libraries flip Pillow's process-wide switch to accept truncated files (WeasyPrint
    # does on import); a clinical measurement must never come from half an image.
    tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return LoadedImage(pixels=rgb, source_width=width, source_height=height)
