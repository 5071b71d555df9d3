"""Visits: treatment session records with dose and safety checks before saving."""
