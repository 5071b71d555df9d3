"""mesoclinic: a clinic system for scalp mesotherapy programmes against hair loss."""

__version__ = "0.1.0"
