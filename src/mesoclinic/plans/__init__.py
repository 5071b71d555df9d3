"""Protocols, treatment plans, plan sessions, appointments and the reception calendar."""
