"""Synthetic demo patients: deterministic, plausible, and obviously not real people."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

GIVEN_F = [
    "Ana",
    "Beatriz",
    "Clara",
    "Diana",
    "Elena",
    "Fatima",
    "Grace",
    "Helena",
    "Ines",
    "Julia",
    "Laura",
    "Marta",
    "Nadia",
    "Olivia",
    "Paula",
]
GIVEN_M = [
    "Andre",
    "Bruno",
    "Carlos",
    "Daniel",
    "Eduardo",
    "Filipe",
    "Gabriel",
    "Hugo",
    "Ivan",
    "Jorge",
    "Lucas",
    "Miguel",
    "Nuno",
    "Omar",
    "Pedro",
]
FAMILY = [
    "Silva",
    "Costa",
    "Ruiz",
    "Martins",
    "Okafor",
    "Novak",
    "Fischer",
    "Moreau",
    "Rossi",
    "Haddad",
    "Kowalski",
    "Lindqvist",
    "Tanaka",
    "Murphy",
    "Santos",
    "Pereira",
    "Garcia",
    "Dubois",
    "Nakamura",
    "Evans",
]
CITIES = [
    ("London", "GB", "W1G"),
    ("London", "GB", "NW1"),
    ("London", "GB", "SW3"),
    ("Madrid", "ES", "28001"),
]


@dataclass(frozen=True)
class DemoPerson:
    given_name: str
    family_name: str
    sex: str
    birth_date: date
    phone: str
    email: str
    city: str
    country: str
    postal_code: str
    profile: str  # clinical storyline used by the areas' demo data


def distinct_name(
    rng: random.Random, sex: str, index: int, taken: set[tuple[str, str]]
) -> tuple[str, str]:
    """A given and family name no other demo patient has (added to `taken`): two patients
    called "Ana Martins" on one dashboard make a demo look wrong. Family names cycle through
    the whole list (7 is prime to its length), given names are drawn until the pair is new."""
    given_names = GIVEN_F if sex == "female" else GIVEN_M
    for attempt in range(len(FAMILY)):
        family = FAMILY[(index * 7 + 5 + attempt) % len(FAMILY)]
        free = [g for g in given_names if (g, family) not in taken]
        if free:
            given = rng.choice(free)
            taken.add((given, family))
            return given, family
    raise ValueError("no demo name left: add names to demo.people")


PROFILES = [
    "telogen_effluvium",
    "early_aga",
    "moderate_aga",
    "fphl",
    "advanced_aga",
    "alopecia_areata",
    "pregnant",
    "anticoagulant",
    "biotin_allergy",
    "early_aga",
]


def demo_people(count: int = 30, seed: int = 2026) -> list[DemoPerson]:
    """`count` synthetic patients with a mix of the storylines the demo shows."""
    rng = random.Random(seed)
    people = []
    for i in range(count):
        profile = PROFILES[i % len(PROFILES)]
        sex = (
            "female"
            if profile in ("fphl", "pregnant")
            or (profile not in ("advanced_aga", "moderate_aga", "early_aga") and rng.random() < 0.5)
            else "male"
        )
        given = rng.choice(GIVEN_F if sex == "female" else GIVEN_M)
        family = FAMILY[(i * 7 + rng.randrange(3)) % len(FAMILY)]
        age = rng.randint(24, 58) if profile != "pregnant" else rng.randint(26, 38)
        birth = date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
        city, country, postal = CITIES[i % len(CITIES)]
        people.append(
            DemoPerson(
                given,
                family,
                sex,
                birth,
                f"+{44 if country == 'GB' else 34} {rng.randint(100, 999)} {rng.randint(100, 999)}"
                f" {rng.randint(1000, 9999)}",
                f"{given.lower()}.{family.lower()}{i}@example.org",
                city,
                country,
                postal,
                profile,
            )
        )
    return people
