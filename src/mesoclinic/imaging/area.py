"""The imaging area: trichoscopy analysis (pure image code) and its command."""

from mesoclinic.area import Area

AREA = Area(
    name="imaging",
    cli=("mesoclinic.imaging.cli",),
    commands={"analyze": "Count and measure hairs on trichoscopy images."},
)
