"""Aftercare: precaution windows, declared-event conflicts, instruction sheets, reminders, .ics."""
