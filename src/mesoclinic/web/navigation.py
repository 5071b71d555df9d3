"""Top navigation: the areas' entries shown to roles holding each entry's permission."""

from __future__ import annotations

from mesoclinic import areas
from mesoclinic.area import NavItem
from mesoclinic.security.permissions import Role, has_permission


def can(user: object, permission: str) -> bool:
    """Whether the signed-in user's role holds a permission (for links outside the areas' nav)."""
    return has_permission(Role(getattr(user, "role", "patient")), permission)


def nav_items(user: object) -> list[NavItem]:
    role = Role(getattr(user, "role", "patient"))
    return [
        item
        for item in areas.nav_items()
        if has_permission(role, item.permission) and not (item.staff_only and role is Role.PATIENT)
    ]
