"""Password policy: common passwords, the username and whitespace-only passwords are refused;
the length minimum stays."""

from __future__ import annotations

from typing import Any

import pytest

from mesoclinic.errors import InvalidInput
from mesoclinic.security import service
from mesoclinic.security.actor import cli_actor
from mesoclinic.security.password_policy import MIN_PASSWORD_LENGTH, password_problem


@pytest.mark.parametrize(
    ("password", "username", "words"),
    [
        ("1234567890", "maya", "common"),
        ("Password123", "maya", "common"),
        ("qwertyuiop", "maya", "common"),
        ("            ", "maya", "spaces"),
        ("short", "maya", f"at least {MIN_PASSWORD_LENGTH}"),
        ("maya.lopez2026", "maya.lopez", "username"),
        ("Reception.Desk", "reception.desk", "username"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, username: str, words: str) -> None:
    problem = password_problem(password, username=username)
    assert problem is not None and words in problem


def test_a_long_uncommon_password_is_accepted() -> None:
    assert password_problem("velvet-otter-harbour-42", username="maya.lopez") is None


def test_setting_a_common_password_is_refused_by_the_service(world: Any) -> None:
    with world.db.factory() as s:
        with pytest.raises(InvalidInput) as refused:
            service.set_password(
                s, cli_actor(), username=world.users["nurse"].username, password="iloveyou12"
            )
        assert refused.value.field == "password" and "common" in refused.value.message
        with pytest.raises(InvalidInput):
            service.set_password(
                s,
                cli_actor(),
                username=world.users["nurse"].username,
                password=world.users["nurse"].username + "-secret",
            )
