"""Helpers shared by tests (importable: `from support import ...`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mesoclinic.security.models import AuditEntry

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("MESOCLINIC_TEST_DATABASE_URL")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_PASSWORD = "correct-horse-battery"
_PASSWORD_HASH: str | None = None


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI a missing dependency is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def password_hash_for_tests() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        from mesoclinic.security.service import hash_password

        _PASSWORD_HASH = hash_password(TEST_PASSWORD)
    return _PASSWORD_HASH


def audit_entries(db: Any, **filters: Any) -> list[AuditEntry]:
    """Audit rows matching column=value filters, oldest first (in insertion order: rows are
    sealed into the chain later)."""
    with db.factory() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in filters.items():
            stmt = stmt.where(getattr(AuditEntry, name) == value)
        return list(s.execute(stmt).scalars())


def new_id() -> str:
    return str(uuid.uuid4())


def browser_login(page: Any, username: str, password: str = TEST_PASSWORD) -> None:
    """Sign in through the real login form."""
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def csrf_from(html: str) -> str:
    """The CSRF token a rendered page puts in its forms."""
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def run_bench(script: str, *args: str) -> dict[str, Any]:
    """Run `bench/<script>` on its own small data (no configured database) and return the JSON
    object it prints last; fails with the script's error output."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("MESOCLINIC_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, str(root / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=840,  # the shared 2-core test machine; the run itself takes about a minute
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures
