"""Top navigation: the areas' entries shown to roles holding each entry's permission."""

from __future__ import annotations

from mesoclinic import areas
from mesoclinic.area import NavItem
from mesoclinic.security.permissions import Role, has_permission


def nav_items(user: object) -> list[NavItem]:
    role = Role(getattr(user, "role", "patient"))
    return [
        item
        for item in areas.nav_items()
        if has_permission(role, item.permission) and not (item.staff_only and role is Role.PATIENT)
    ]
