"""Reviewed images as training data: the image plus PASCAL-VOC with one object per hair
(exit point as xmin/ymin, shaft point as xmax/ymax), the layout of the FDU trichoscopy set."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from mesoclinic.db import RecordStatus
from mesoclinic.imaging.units import unit_labels
from mesoclinic.outcomes.imagestore import blob_path
from mesoclinic.outcomes.models import (
    AnalysisKind,
    ClinicalImage,
    ImageAnalysis,
    ImageReview,
    PhotoConsent,
)
from mesoclinic.outcomes.review import reviewed_hairs
from mesoclinic.security import audit
from mesoclinic.security.actor import Actor
from mesoclinic.security.permissions import Permission

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif"}
UNIT_RADIUS_PX = 80.0  # per 1280 px of width: the analysis's follicular-unit linkage


@dataclass(frozen=True)
class ExportReport:
    written: int
    without_consent: int
    hairs: int


def teaching_allowed(session: Session, patient_id: object) -> bool:
    """Training a detector is teaching use: the patient's current photo consent must allow it."""
    consent = session.execute(
        select(PhotoConsent)
        .where(PhotoConsent.patient_id == patient_id, PhotoConsent.withdrawn_at.is_(None))
        .order_by(PhotoConsent.signed_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return bool(consent and consent.teaching)


HairBox = tuple[str, float, float, float, float]  # class, exit x, exit y, shaft x, shaft y


def hair_objects(analysis: ImageAnalysis, review: ImageReview) -> list[HairBox]:
    """(class, exit x, exit y, shaft x, shaft y) of every hair after the review; the class is
    the FDU's: `single` for a one-hair unit, `premium` for a unit of two or more."""
    kept = reviewed_hairs(analysis, review)
    lines: list[tuple[float, float, float, float]] = [
        (h["exit"][0], h["exit"][1], h["shaft"][0], h["shaft"][1]) for h in kept.detected
    ] + [(a[0], a[1], a[2], a[3]) for a in kept.added]
    points = np.array([[line[0], line[1]] for line in lines], dtype=np.float64).reshape(-1, 2)
    radius = UNIT_RADIUS_PX * analysis.result["image_width"] / 1280.0
    labels = list(unit_labels(points, radius))
    sizes = {label: labels.count(label) for label in labels}
    return [
        ("single" if sizes[label] == 1 else "premium", *line)
        for label, line in zip(labels, lines, strict=True)
    ]


def voc_xml(filename: str, width: int, height: int, objects: list[HairBox]) -> str:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "data"
    ET.SubElement(root, "filename").text = filename
    source = ET.SubElement(root, "source")
    ET.SubElement(source, "database").text = "mesoclinic reviewed trichoscopy"
    ET.SubElement(source, "form").text = "VOC"
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for name, x0, y0, x1, y1 in objects:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name  # PASCAL-VOC's own tag
        ET.SubElement(obj, "class").text = name  # the FDU set's tag
        ET.SubElement(obj, "pose").text = "None"
        ET.SubElement(obj, "difficult").text = "0"
        box = ET.SubElement(obj, "bndbox")
        for tag, coordinate in (("xmin", x0), ("ymin", y0), ("xmax", x1), ("ymax", y1)):
            ET.SubElement(box, tag).text = str(round(coordinate))
    ET.indent(root, space="    ")
    return ET.tostring(root, encoding="unicode") + "\n"


def export(session: Session, actor: Actor, images_dir: Path, target: Path) -> ExportReport:
    """Write every reviewed image (latest review of its newest reviewed count) to target."""
    actor.require(Permission.OUTCOME_READ)
    target.mkdir(parents=True, exist_ok=True)
    rows = session.execute(
        select(ImageReview, ImageAnalysis, ClinicalImage)
        .join(ImageAnalysis, ImageAnalysis.id == ImageReview.analysis_id)
        .join(ClinicalImage, ClinicalImage.id == ImageAnalysis.image_id)
        .where(
            ImageAnalysis.kind == AnalysisKind.COUNT,
            ClinicalImage.status == RecordStatus.ACTIVE,
        )
        .order_by(ImageAnalysis.created_at.desc(), ImageReview.reviewed_at.desc())
    ).all()
    written = skipped = hairs = 0
    seen: set[object] = set()
    for review_row, analysis, image in rows:
        if image.id in seen:
            continue  # newest analysis, newest review of it: already written
        seen.add(image.id)
        if actor.clinic_id is not None and image.clinic_id != actor.clinic_id:
            continue
        if not teaching_allowed(session, image.patient_id):
            skipped += 1
            continue
        name = f"{image.id}{EXTENSIONS.get(image.blob.media_type, '.img')}"
        shutil.copyfile(blob_path(images_dir, image.blob_sha256), target / name)
        objects = hair_objects(analysis, review_row)
        xml = voc_xml(name, image.blob.width, image.blob.height, objects)
        (target / f"{image.id}.xml").write_text(xml, encoding="utf-8")
        audit.record(
            session,
            actor,
            "export_corrections",
            "clinical_image",
            image.id,
            patient_id=image.patient_id,
            clinic_id=image.clinic_id,
            detail={"review": str(review_row.id), "hairs": len(objects)},
        )
        written += 1
        hairs += len(objects)
    return ExportReport(written, skipped, hairs)
