"""Aftercare fixtures: a real SMTP server (aiosmtpd) and appointment/visit builders."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mesoclinic.db import unit_of_work
from mesoclinic.plans.models import Appointment


@dataclass
class Inbox:
    """Messages the test SMTP server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]).strip() for m in self.messages]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port)
        self.controller.start()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port, started for this test."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer("127.0.0.1", port, inbox, controller)
    yield server
    try:
        server.controller.stop()
    except (AssertionError, RuntimeError):
        pass  # already stopped by the test


@pytest.fixture
def mail_settings(db: Any, settings_for: Any, smtp: SmtpServer) -> Any:
    return settings_for(
        db.url, smtp_host=smtp.host, smtp_port=smtp.port, mail_from="clinic@example.org"
    )


@pytest.fixture
def add_appointment(world: Any) -> Any:
    """Add an appointment row for a patient (arranged directly; booking rules are plans')."""

    def add(
        patient: Any, starts_at: datetime, status: str = "booked", minutes: int = 30
    ) -> uuid.UUID:
        with unit_of_work(world.db.factory) as s:
            appointment = Appointment(
                id=uuid.uuid4(),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                practitioner_id=world.users["clinician"].id,
                room="Room 1",
                starts_at=starts_at,
                duration_minutes=minutes,
                status=status,
            )
            s.add(appointment)
            return appointment.id

    return add


@pytest.fixture
def add_visit(world: Any) -> Any:
    """Add a completed (or voided) visit row for a patient, arranged directly."""
    from mesoclinic.formulary.models import Cocktail
    from mesoclinic.visits.models import Visit

    def add(patient: Any, performed_at: datetime, status: str = "completed") -> uuid.UUID:
        with unit_of_work(world.db.factory) as s:
            cocktail = Cocktail(name=f"Test cocktail {uuid.uuid4().hex[:8]}", total_volume_ml=5.0)
            s.add(cocktail)
            s.flush()
            visit = Visit(
                id=uuid.uuid4(),
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                practitioner_id=world.users["clinician"].id,
                performed_at=performed_at,
                cocktail_id=cocktail.id,
                technique="manual",
                zones="vertex",
                depth_mm=1.0,
                points=40,
                volume_per_point_ml=0.05,
                total_volume_ml=2.0,
                needle_gauge=32,
                needle_length_mm=4.0,
                status=status,
            )
            s.add(visit)
            return visit.id

    return add
