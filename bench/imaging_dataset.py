"""Reading the shared FDU trichoscopy set and its deterministic subject split."""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# MESOCLINIC_SHARED_DATA points elsewhere (a git worktree whose parent holds no shared/).
SHARED_DATA = Path(
    os.environ.get(
        "MESOCLINIC_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)
FDU = SHARED_DATA / "trichoscopy-fdu"
MASKS = SHARED_DATA / "hair-shaft-masks"


@dataclass(frozen=True)
class LabelledHair:
    """One labelled hair: exit point (x0, y0) and a point along the shaft (x1, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int
    kind: str


@dataclass(frozen=True)
class LabelledImage:
    """An FDU image path, its subject id and its labelled hairs."""

    path: Path
    subject: str
    hairs: tuple[LabelledHair, ...]


def subject_of(path: Path) -> str:
    """Subject id from a file name DATE_SUBJECT_N.jpg."""
    return path.stem.split("_")[1]


def hashed_split_of(subject: str) -> str:
    """'tune' or 'report' by a fixed hash of the subject id, about half each (the split the
    shipped weights were trained on; see split_of for the split every figure now uses)."""
    digest = hashlib.sha256(f"mesoclinic-imaging:{subject}".encode()).digest()
    return "report" if digest[0] % 2 == 1 else "tune"


def twin_pairs() -> list[tuple[str, str]]:
    """Photos the set holds twice under two subject ids, each labelled separately (file names)."""
    path = FDU / "duplicate-pairs.txt"
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text().splitlines():
        if line.strip():
            first, second = line.split()
            pairs.append((first, second))
    return pairs


@cache
def _twin_components() -> dict[str, frozenset[str]]:
    """Subjects joined by twin photos: the same person under two ids goes to one split."""
    parent: dict[str, str] = {}

    def root(subject: str) -> str:
        while parent.setdefault(subject, subject) != subject:
            subject = parent[subject]
        return subject

    for first, second in twin_pairs():
        parent[root(subject_of(Path(first)))] = root(subject_of(Path(second)))
    members: dict[str, set[str]] = {}
    for subject in list(parent):
        members.setdefault(root(subject), set()).add(subject)
    return {subject: frozenset(group) for group in members.values() for subject in group}


def split_of(subject: str) -> str:
    """'tune' or 'report', by subject AND by image content: subjects joined by a twin photo
    share one split, and a group goes to 'tune' when any of its subjects hashed there, so the
    report split only ever shrinks and stays unseen by weights trained on the hashed split."""
    group = _twin_components().get(subject, frozenset({subject}))
    return "tune" if any(hashed_split_of(s) == "tune" for s in group) else "report"


def held_out(subject: str) -> bool:
    """Within the tune split, a quarter of subjects validate thresholds and checkpoints; the
    rest train the weights."""
    return hashlib.sha256(f"val:{subject}".encode()).digest()[0] % 4 == 0


def read_labels(xml_path: Path) -> tuple[LabelledHair, ...]:
    """All labelled hairs of one PASCAL-VOC annotation file."""
    hairs = []
    for obj in ET.parse(xml_path).getroot().iter("object"):
        box = obj.find("bndbox")
        assert box is not None
        values = [int(float(box.findtext(k, "0"))) for k in ("xmin", "ymin", "xmax", "ymax")]
        x0, y0, x1, y1 = values
        hairs.append(LabelledHair(x0, y0, x1, y1, kind=obj.findtext("class", "")))
    return tuple(hairs)


def labelled_images(split: str | None = None) -> list[LabelledImage]:
    """Labelled FDU images, optionally only one split, sorted by file name."""
    images = []
    for path in sorted((FDU / "images").glob("*.jpg")):
        xml_path = FDU / "annotations" / f"{path.stem}.xml"
        if not xml_path.exists():
            continue
        subject = subject_of(path)
        if split is not None and split_of(subject) != split:
            continue
        images.append(LabelledImage(path, subject, read_labels(xml_path)))
    return images
