"""The normalised forms patients are searched by (pure, no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mesoclinic.patients.search_keys import (
    digits,
    name_key,
    prefix_upper_bound,
    reversed_digits,
)


def test_names_lose_case_accents_and_punctuation() -> None:
    assert name_key("O'Brien-Núñez") == "obrien nunez"
    assert name_key("  ÉLODIE   Müller ") == "elodie muller"
    assert name_key("!!!") == "" and name_key(None) == ""


def test_phone_numbers_keep_their_digits_both_ways() -> None:
    assert digits("+44 (0)20 7946-0001") == "440207946" + "0001"
    assert reversed_digits("+44 20 7946 0001") == "10006497024" + "4"
    assert digits("no number") is None and reversed_digits(None) is None


@given(st.text(min_size=1), st.text())
def test_every_string_starting_with_a_key_lies_below_its_upper_bound(prefix, rest) -> None:
    key = name_key(prefix)
    word = key + name_key(rest)
    assert key <= word < prefix_upper_bound(key) or not key
    # Bytewise, as SQLite and PostgreSQL's COLLATE "C" compare.
    assert word.encode() < prefix_upper_bound(key).encode() or not key
