"""What makes a password acceptable: plain values in, the reason it is refused out.

The common-password list is zxcvbn's (the 30,000 most frequent passwords from published
leaks), shipped inside the package, so nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import cache

MIN_PASSWORD_LENGTH = 10
# A username shorter than this is only refused as the whole password, not as a part of one.
MIN_USERNAME_PART = 4


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # 30,000 words: loaded when first needed

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str = "") -> str | None:
    """Why `password` may not be used (in words for the person choosing it), or None."""
    if not password.strip():
        return "Password cannot be only spaces"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    folded = password.lower()
    if folded in _common_passwords() or folded.strip() in _common_passwords():
        return "This password is one of the most common ones: choose another"
    name = username.strip().lower()
    if name and (folded == name or (len(name) >= MIN_USERNAME_PART and name in folded)):
        return "Password must not contain the username"
    return None
