"""The normalised forms patients are searched by, so every search is an index range scan.

Names are kept lower-case without accents or punctuation ("O'Brien-Núñez" -> "obrien nunez"),
so "nun" finds Núñez; phone numbers are kept as their digits and those digits reversed, so both
the start ("+44 7911...") and the end ("...123456") of a number are prefixes of an indexed
column. The search itself matches prefixes (docs/decisions.md, "Search uses indexes").
"""

from __future__ import annotations

import re
import unicodedata

_NOT_KEY = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


def name_key(text: str | None) -> str:
    """A name as it is indexed and searched: lower-case ASCII letters, digits and spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch))
    ascii_only = ascii_only.replace("-", " ")
    return _SPACES.sub(" ", _NOT_KEY.sub("", ascii_only)).strip()


def digits(phone: str | None) -> str | None:
    """The digits of a phone number (None when it has none)."""
    found = re.sub(r"\D", "", phone or "")
    return found or None


def reversed_digits(phone: str | None) -> str | None:
    """The digits read backwards: a search by the last digits is a prefix search on these."""
    found = digits(phone)
    return found[::-1] if found else None


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix` (byte order)."""
    return prefix + "\U0010ffff"
