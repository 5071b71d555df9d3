"""Review sheets for a label audit: where the analysis and the FDU labels disagree, and why.

For a seeded random sample of report-split images it runs the analysis, matches detections
to labelled exit points (15 px, one-to-one, as the benchmark does), pairs what is left within
40 px as near misses (same hair, exit placed elsewhere), and writes per image:

* NN_overview.png: the whole image at 75 %, labels in blue (square = exit, line = shaft),
  detections as rings (green matched, red not), every remaining error numbered in yellow;
* NN_errors.png: a 1.4x crop around each remaining error, numbered as in the overview;
* audit.json: per image the counts and the list of errors (D = detection without a label,
  L = label without a detection) for the reviewer to classify.

    PYTHONPATH=src python bench/imaging_audit.py --out /tmp/audit [--images 12] [--seed N]

The classification used in docs/imaging.md ("Label audit") is a person's judgement made
on these sheets; the sheets hold shared data and are never committed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imaging_dataset import LabelledImage, labelled_images  # noqa: E402
from imaging_metrics import MATCH_RADIUS_PX  # noqa: E402

from mesoclinic.imaging.analysis import analyze_image  # noqa: E402
from mesoclinic.imaging.loading import load_image  # noqa: E402
from mesoclinic.imaging.matching import match_points  # noqa: E402
from mesoclinic.imaging.profiles import get_profile  # noqa: E402

NEAR_MISS_PX = 40.0
CROP_PX = 220
ZOOM = 1.4
BLUE, GREEN, RED, YELLOW = (60, 120, 255), (0, 230, 0), (255, 40, 40), (255, 255, 0)


def disagreements(
    detected: NDArray[np.float64], labelled: NDArray[np.float64]
) -> tuple[set[int], list[tuple[int, int]], list[tuple[str, int]]]:
    """Matched detections, near-miss (detection, label) pairs, and the remaining errors."""
    pairs = match_points(detected, labelled, MATCH_RADIUS_PX)
    found = {i for i, _ in pairs}
    labels_found = {j for _, j in pairs}
    spare_d = [i for i in range(len(detected)) if i not in found]
    spare_l = [j for j in range(len(labelled)) if j not in labels_found]
    near = [
        (spare_d[a], spare_l[b])
        for a, b in match_points(detected[spare_d], labelled[spare_l], NEAR_MISS_PX)
    ]
    near_d, near_l = {i for i, _ in near}, {j for _, j in near}
    errors = [("D", i) for i in spare_d if i not in near_d]
    errors += [("L", j) for j in spare_l if j not in near_l]
    return found, near, errors


def draw_marks(
    canvas: Image.Image,
    image: LabelledImage,
    detected: NDArray[np.float64],
    found: set[int],
    origin: tuple[float, float],
    zoom: float,
) -> None:
    """Labels (blue) and detections (green found, red not) onto a crop at origin, zoomed."""
    draw = ImageDraw.Draw(canvas)
    ox, oy = origin

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - ox) * zoom, (y - oy) * zoom

    for hair in image.hairs:
        (x0, y0), (x1, y1) = at(hair.x0, hair.y0), at(hair.x1, hair.y1)
        draw.line([(x0, y0), (x1, y1)], fill=BLUE, width=2)
        draw.rectangle([x0 - 4, y0 - 4, x0 + 4, y0 + 4], outline=BLUE, width=2)
    for i, (x, y) in enumerate(detected):
        cx, cy = at(x, y)
        draw.ellipse(
            [cx - 9, cy - 9, cx + 9, cy + 9], outline=GREEN if i in found else RED, width=2
        )


def audit_image(image: LabelledImage, number: int, out: Path) -> dict[str, object]:
    """Write one image's sheets; return its counts and errors."""
    profile = get_profile("fdu-70x")
    loaded = load_image(image.path)
    result = analyze_image(
        loaded.pixels,
        profile.calibration_for(loaded.source_width),
        profile.roi_for(loaded.source_width, loaded.source_height),
        source_scale=loaded.source_scale,
    )
    detected = np.array([[h.x, h.y] for h in result.hairs], dtype=np.float64).reshape(-1, 2)
    labelled = np.array([[h.x0, h.y0] for h in image.hairs], dtype=np.float64).reshape(-1, 2)
    found, near, errors = disagreements(detected, labelled)
    points = [detected[i] if kind == "D" else labelled[i] for kind, i in errors]
    with Image.open(image.path) as opened:
        full = opened.convert("RGB")
    overview = full.copy()
    draw_marks(overview, image, detected, found, (0.0, 0.0), 1.0)
    draw = ImageDraw.Draw(overview)
    for n, (x, y) in enumerate(points):
        draw.text((x + 10, y + 10), str(n), fill=YELLOW)
    overview.resize((full.width * 3 // 4, full.height * 3 // 4)).save(
        out / f"{number:02d}_overview.png"
    )
    side = int(CROP_PX * ZOOM)
    columns = 4
    rows = max(1, -(-len(points) // columns))
    sheet = Image.new("RGB", (columns * side, rows * side))
    for n, ((kind, _), (x, y)) in enumerate(zip(errors, points, strict=True)):
        origin = (float(int(x - CROP_PX / 2)), float(int(y - CROP_PX / 2)))
        box = (int(origin[0]), int(origin[1]), int(origin[0]) + CROP_PX, int(origin[1]) + CROP_PX)
        tile = full.crop(box).resize((side, side))
        draw_marks(tile, image, detected, found, origin, ZOOM)
        ImageDraw.Draw(tile).text((3, 2), f"#{n} {kind}", fill=YELLOW)
        sheet.paste(tile, ((n % columns) * side, (n // columns) * side))
    sheet.save(out / f"{number:02d}_errors.png")
    return {
        "number": number,
        "image": image.path.name,
        "labelled": len(labelled),
        "detected": len(detected),
        "matched": len(found),
        "near_misses": len(near),
        "errors": [
            {"n": n, "kind": kind, "x": round(float(x)), "y": round(float(y))}
            for n, ((kind, _), (x, y)) in enumerate(zip(errors, points, strict=True))
        ],
        "algorithm_version": result.algorithm_version,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder for the sheets")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    images = random.Random(args.seed).sample(labelled_images("report"), args.images)
    summary = []
    for number, image in enumerate(images):
        entry = audit_image(image, number, args.out)
        summary.append(entry)
        print(
            f"{number:2d} {image.path.name}: labelled {entry['labelled']} detected "
            f"{entry['detected']} matched {entry['matched']} near {entry['near_misses']} "
            f"errors {''.join(e['kind'] for e in entry['errors'])}",  # type: ignore[attr-defined]
            flush=True,
        )
    (args.out / "audit.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
