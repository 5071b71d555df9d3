"""Settings from the environment (prefix MESOCLINIC_), one typed object for the whole app."""

from __future__ import annotations

import os
import secrets
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("mesoclinic", appauthor=False))


def shared_key_file(path: Path) -> str:
    """The random key kept in `path`, made on first use.

    Servers and workers sharing the data folder may all start at once: the key is written to a
    private temporary file and linked into place, which fails if another process got there
    first, so every process reads the one key that won (never a half-written or a second one).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


class Settings(BaseSettings):
    """Deployment settings; every field can be set as MESOCLINIC_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="MESOCLINIC_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    secret_key: str | None = None
    cookie_secure: bool = True
    session_hours: int = Field(default=12, ge=1, le=24 * 7)
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    default_timezone: str = "Europe/London"
    rulebook: Path | None = None  # the clinic's own candidacy and contraindication rules
    visit_rulebook: Path | None = None  # the clinic's own dose, needle and precaution limits
    aftercare_rulebook: Path | None = None  # the clinic's own aftercare precautions YAML
    outbox_max_attempts: int = Field(default=5, ge=1, le=20)
    # How long a claimed email stays reserved for its worker before another may retry it.
    outbox_lease_seconds: float = Field(default=300, gt=0, le=3600)
    protocols: Path | None = None  # clinic protocol templates YAML (plans area)
    measurement_kinds: Path | None = None  # the clinic's measurement kinds YAML (outcomes)
    responder_rules: Path | None = None  # the clinic's responder rulebook YAML (outcomes)
    # What progress is measured from: the last value before the first session, or the first value.
    progress_baseline: Literal["last-before-first-session", "first-measurement"] = (
        "last-before-first-session"
    )
    image_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    image_max_pixels: int = Field(default=40_000_000, ge=10_000)
    analysis_lease_seconds: float = Field(default=300, gt=0, le=3600)
    # Formulary: a lot expiring within this many days is flagged in the stock alerts.
    stock_expiry_alert_days: int = Field(default=30, ge=0, le=365)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "mesoclinic@localhost"
    public_url: str = "http://127.0.0.1:8000"
    # Key of the audit checkpoints (HMAC); default: `audit.key` in the data folder. Keep it
    # where whoever can write the database cannot read it.
    audit_key: str | None = None
    audit_checkpoint_entries: int = Field(default=1000, ge=1)
    audit_checkpoint_seconds: float = Field(default=300, gt=0)

    # Load: how many requests one server process serves at once (the rest wait their turn, in
    # order), how many of them may write at once (default: 1 on SQLite, whose writers take
    # turns anyway, so a queued write waits in the queue rather than holding a connection; all
    # of them on PostgreSQL), and how long a request may wait before it is answered 503 with
    # Retry-After. The connection pool is sized from these (see `engine_options`).
    max_concurrent_requests: int = Field(default=16, ge=1, le=256)
    max_concurrent_writes: int | None = Field(default=None, ge=1, le=256)
    request_queue_seconds: float = Field(default=30, gt=0, le=600)
    max_queued_requests: int = Field(default=1000, ge=0)
    db_pool_timeout_seconds: float = Field(default=30, gt=0, le=600)
    # How long a statement waits for a lock another connection holds (SQLite's write lock,
    # PostgreSQL's row and table locks) before the request is answered 503.
    db_lock_timeout_seconds: float = Field(default=30, gt=0, le=600)

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def write_slots(self) -> int:
        """Requests with unsafe methods one process lets run at once."""
        if self.max_concurrent_writes is not None:
            return min(self.max_concurrent_writes, self.max_concurrent_requests)
        return 1 if self.is_sqlite else self.max_concurrent_requests

    @property
    def engine_options(self) -> dict[str, Any]:
        """`make_engine` options for a server process: one pooled connection per admitted
        request plus a few for `/healthz`, the demo's background worker and the audit sealer,
        so an admitted request never waits for a connection."""
        options: dict[str, Any] = {"lock_timeout_s": self.db_lock_timeout_seconds}
        if (
            self.resolved_database_url != "sqlite://"
            and ":memory:" not in self.resolved_database_url
        ):
            options |= {
                "pool_size": self.max_concurrent_requests + 4,
                "max_overflow": 4,
                "pool_timeout": self.db_pool_timeout_seconds,
            }
        return options

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL, defaulting to an embedded SQLite file in the data folder."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'mesoclinic.db'}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url

    @cached_property
    def resolved_secret_key(self) -> str:
        """The signing secret; in development a random one is kept in the data folder."""
        if self.secret_key:
            if self.environment == "production" and len(self.secret_key) < 32:
                raise ValueError("MESOCLINIC_SECRET_KEY must be at least 32 characters")
            return self.secret_key
        if self.environment == "production":
            raise ValueError("MESOCLINIC_SECRET_KEY is required in production")
        # Servers that share the data folder (one machine, or a shared mount) share this key.
        return shared_key_file(self.data_dir / "secret.key")

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"


def get_settings() -> Settings:
    """Settings from the environment: a fresh copy each call (callers may change theirs), read
    again whenever the environment it comes from has changed (tests change it). Parsing the
    environment costs milliseconds, and some requests ask for settings (issue 18)."""
    return _settings_for(_environment_key()).model_copy()


def _environment_key() -> tuple[tuple[str, str], ...]:
    """What `Settings()` reads: the MESOCLINIC_ variables, and where the default data folder is."""
    return tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.upper().startswith("MESOCLINIC_") or k in ("HOME", "XDG_DATA_HOME")
        )
    )


@lru_cache(maxsize=8)
def _settings_for(_key: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()
