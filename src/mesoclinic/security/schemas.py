"""API schemas for authentication, users and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from mesoclinic.schemas_common import ReadSchema, Schema


class TokenRequest(Schema):
    username: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UserCreate(Schema):
    """A new staff account (patients' accounts are made from their record)."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    role: Literal["admin", "clinic_admin", "clinician", "nurse", "reception"]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    clinic_id: uuid.UUID | None = None  # required for all but the group admin, refused for it
    display_name: Annotated[str, StringConstraints(max_length=120)] = ""
    email: Annotated[str, StringConstraints(max_length=254)] | None = None


class TokenResponse(ReadSchema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class TokenRead(ReadSchema):
    """One of the caller's live sessions or API tokens; the secret is never shown."""

    id: uuid.UUID
    kind: str  # "web" (a browser session) or "api" (a bearer token)
    created_at: datetime
    expires_at: datetime
    client_addr: str | None
    current: bool = False  # the one this request was made with


class SessionsEnded(ReadSchema):
    ended: int


class UserRead(ReadSchema):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    clinic_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    active: bool


class AuditEntryRead(ReadSchema):
    seq: int | None  # None until the worker seals the entry into the hash chain
    at: datetime
    actor_username: str
    actor_role: str
    clinic_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: str | None
    patient_id: uuid.UUID | None
    client_addr: str | None
    detail: str


class Health(ReadSchema):
    status: str
    version: str
    schema_version: str
