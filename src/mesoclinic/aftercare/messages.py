"""The text of patient emails (pure: plain values in, subject and body out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from mesoclinic.aftercare.rules import PrecautionWindow

SIGN_OFF = (
    "\n\nIf anything worries you (spreading redness, fever, severe pain or swelling), "
    "call the clinic.\nYou can stop these emails from the Aftercare page of the patient "
    "portal.\n"
)


def _when(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%A %d %B %Y at %H:%M")


def _lines(windows: Sequence[PrecautionWindow], tz: str) -> str:
    return "\n".join(
        f"- {w.title}: from {_when(w.starts_at, tz)} until {_when(w.ends_at, tz)}."
        f"\n  {w.instruction}"
        for w in windows
    )


def appointment_reminder(name: str, clinic: str, starts_at: datetime, tz: str) -> tuple[str, str]:
    """Subject and body of the 24-hour appointment reminder."""
    local = starts_at.astimezone(ZoneInfo(tz))
    subject = f"Reminder: your mesotherapy session on {local:%a %d %b at %H:%M}"
    body = (
        f"Dear {name},\n\nThis is a reminder of your scalp mesotherapy session at {clinic} "
        f"on {_when(starts_at, tz)}.\nPlease come with clean, dry hair and no styling "
        f"products. If you cannot come, let us know as soon as possible." + SIGN_OFF
    )
    return subject, body


def pre_visit_precautions(
    name: str, clinic: str, starts_at: datetime, tz: str, windows: Sequence[PrecautionWindow]
) -> tuple[str, str]:
    """Subject and body of the 7-day pre-visit email (precautions that start before)."""
    before = [w for w in windows if w.starts_at < starts_at]
    subject = f"Before your session on {starts_at.astimezone(ZoneInfo(tz)):%d %B}: precautions"
    body = (
        f"Dear {name},\n\nYour scalp mesotherapy session at {clinic} is on "
        f"{_when(starts_at, tz)}. To reduce bruising and irritation, please follow these "
        f"precautions before it:\n\n{_lines(before, tz)}" + SIGN_OFF
    )
    return subject, body


def aftercare(
    name: str, clinic: str, performed_at: datetime, tz: str, windows: Sequence[PrecautionWindow]
) -> tuple[str, str]:
    """Subject and body of the aftercare email sent right after a visit."""
    after = [w for w in windows if w.ends_at > performed_at]
    subject = "Aftercare instructions for your mesotherapy session today"
    body = (
        f"Dear {name},\n\nThank you for your visit to {clinic} on "
        f"{_when(performed_at, tz)}. Please follow these instructions:\n\n"
        f"{_lines(after, tz)}" + SIGN_OFF
    )
    return subject, body
