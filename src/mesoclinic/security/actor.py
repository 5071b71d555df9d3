"""Who is acting: passed to every service so it can scope, authorise and audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from mesoclinic.errors import Forbidden, InvalidInput, NotFound
from mesoclinic.security.permissions import Permission, Role, has_permission


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    username: str
    role: Role
    clinic_id: uuid.UUID | None
    patient_id: uuid.UUID | None = None
    client_addr: str | None = None

    @property
    def is_group_admin(self) -> bool:
        return self.role is Role.ADMIN

    def can(self, permission: Permission | StrEnum) -> bool:
        return has_permission(self.role, permission)

    def require(self, permission: Permission | StrEnum) -> None:
        """Raise Forbidden unless the role holds the permission."""
        if not self.can(permission):
            raise Forbidden(f"Your role ({self.role}) may not do this ({permission})")

    def target_clinic(
        self, requested: uuid.UUID | None, what: str = "this record", field: str = "clinic_id"
    ) -> uuid.UUID:
        """The clinic a new record goes to: a group admin names it; anyone else gets their own,
        and naming another clinic is refused, never silently moved to their own."""
        if self.is_group_admin or self.clinic_id is None:
            if requested is None:
                raise InvalidInput(f"Choose the clinic for {what}", field)
            return requested
        if requested is not None and requested != self.clinic_id:
            raise Forbidden(f"You can only add {what} to your own clinic", field)
        return self.clinic_id

    def check_patient_scope(self, clinic_id: uuid.UUID, patient_id: uuid.UUID) -> None:
        """Staff see their own clinic's patients, patients only themselves; anything else looks
        absent (the same 404 as an unknown id, so a refusal tells nothing about existence)."""
        if self.role is Role.ADMIN:
            return
        if self.role is Role.PATIENT:
            if patient_id != self.patient_id:
                raise NotFound("Patient not found")
            return
        if clinic_id != self.clinic_id:
            raise NotFound("Patient not found")


def cli_actor(username: str = "cli") -> Actor:
    """The actor recorded for commands run on the server's own command line."""
    return Actor(
        user_id=None, username=username, role=Role.ADMIN, clinic_id=None, client_addr="cli"
    )
