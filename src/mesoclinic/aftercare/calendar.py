"""The patient's .ics calendar: next appointments and their precaution windows (icalendar)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mesoclinic.aftercare.rules import PrecautionWindow

if TYPE_CHECKING:  # icalendar loads when a calendar is built, not with the web app (issue 18)
    from icalendar import Event

PRODID = "-//mesoclinic//aftercare//EN"


@dataclass(frozen=True)
class CalendarAppointment:
    """An appointment with the precaution windows that belong to it."""

    id: uuid.UUID
    starts_at: datetime
    duration_minutes: int
    clinic_name: str
    windows: Sequence[PrecautionWindow] = field(default_factory=tuple)


def build_calendar(
    appointments: Sequence[CalendarAppointment],
    generated_at: datetime,
    extra_windows: Sequence[tuple[str, PrecautionWindow]] = (),
) -> bytes:
    """An iCalendar file; precaution windows are transparent (they do not block time).

    `extra_windows` are windows of past visits still running, keyed by a stable id.
    """
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Mesotherapy sessions and aftercare")
    for appt in appointments:
        cal.add_component(_appointment_event(appt, generated_at))
        for window in appt.windows:
            cal.add_component(_window_event(f"{appt.id}-{window.code}", window, generated_at))
    for key, window in extra_windows:
        cal.add_component(_window_event(f"{key}-{window.code}", window, generated_at))
    return bytes(cal.to_ical())


def _appointment_event(appt: CalendarAppointment, stamp: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", f"appointment-{appt.id}@mesoclinic")
    event.add("dtstamp", stamp)
    event.add("dtstart", appt.starts_at)
    event.add("dtend", appt.starts_at + timedelta(minutes=appt.duration_minutes))
    event.add("summary", "Scalp mesotherapy session")
    event.add("location", appt.clinic_name)
    event.add("transp", "OPAQUE")
    event.add("categories", ["APPOINTMENT"])
    return event


def _window_event(key: str, window: PrecautionWindow, stamp: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", f"precaution-{key}@mesoclinic")
    event.add("dtstamp", stamp)
    event.add("dtstart", window.starts_at)
    event.add("dtend", window.ends_at)
    event.add("summary", window.title)
    event.add("description", window.instruction)
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["PRECAUTION"])
    event.add("x-mesoclinic-precaution", window.code)
    return event
