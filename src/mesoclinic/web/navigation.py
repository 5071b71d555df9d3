"""Top navigation entries; each area adds its own, shown to roles holding the permission."""

from __future__ import annotations

from dataclasses import dataclass

from mesoclinic.security.permissions import Permission, Role, has_permission


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission
    staff_only: bool = True


NAV_ITEMS: list[NavItem] = [
    NavItem("Formulary", "/formulary", Permission.FORMULARY_READ),
    NavItem("Stock", "/stock", Permission.FORMULARY_READ),
    NavItem("Outbox", "/admin/outbox", Permission.OUTBOX_READ),
    NavItem("Calendar", "/calendar", Permission.APPOINTMENT_WRITE),
]


def nav_items(user: object) -> list[NavItem]:
    role = Role(getattr(user, "role", "patient"))
    return [
        item
        for item in NAV_ITEMS
        if has_permission(role, item.permission) and not (item.staff_only and role is Role.PATIENT)
    ]
