"""The outcomes area: marked sites, measurements, clinical images and their analysis."""

from mesoclinic.area import Area

AREA = Area(name="outcomes", models="mesoclinic.outcomes.models")
