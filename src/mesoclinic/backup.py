"""Backup and restore: a consistent, database-neutral copy of every table plus stored images.

The archive is a zip of one JSON-lines file per table, a manifest with the schema version, and
the image store. Reading happens in one snapshot transaction (SQLite takes its write lock,
PostgreSQL uses REPEATABLE READ), so a backup taken while the app runs is consistent; a backup
from SQLite restores into PostgreSQL and back.
"""

from __future__ import annotations

import base64
import json
import uuid
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from sqlalchemy import Connection, Engine, delete, insert, select, text

from mesoclinic import migrate
from mesoclinic.config import get_settings
from mesoclinic.db import UTCDateTime, make_engine
from mesoclinic.models_registry import metadata

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def _encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Column types whose values JSON carries as strings, and how to read them back.
_DECODERS: list[tuple[type[Any], Any]] = [
    (sa.Uuid, uuid.UUID),
    (UTCDateTime, datetime.fromisoformat),
    (sa.DateTime, datetime.fromisoformat),
    (sa.Date, date.fromisoformat),
    (sa.LargeBinary, base64.b64decode),
    (sa.Numeric, Decimal),
]


def _decoder(column_type: Any) -> Any:
    if isinstance(column_type, sa.Float):
        return None
    return next((read for kind, read in _DECODERS if isinstance(column_type, kind)), None)


def _decode(readers: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        read = readers[name]
        out[name] = read(value) if read is not None and value is not None else value
    return out


def _snapshot(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def backup(engine: Engine, images_dir: Path, target: Path) -> dict[str, int]:
    """Write a consistent archive to `target`; returns rows per table."""
    counts: dict[str, int] = {}
    tmp = target.with_name(target.name + ".partial")
    with engine.begin() as conn, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        _snapshot(conn)
        for table in metadata.sorted_tables:
            lines = [
                json.dumps({k: _encode(v) for k, v in row._mapping.items()})
                for row in conn.execute(select(table))
            ]
            counts[table.name] = len(lines)
            archive.writestr(f"tables/{table.name}.jsonl", "\n".join(lines))
        manifest = {
            "format": FORMAT_VERSION,
            "schema": migrate.current_revision(conn),
            "created_at": datetime.now().astimezone().isoformat(),
            "rows": counts,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        if images_dir.exists():
            for path in sorted(images_dir.rglob("*")):
                if path.is_file():
                    archive.write(path, f"images/{path.relative_to(images_dir)}")
    tmp.replace(target)
    return counts


def restore(engine: Engine, images_dir: Path, source: Path) -> dict[str, int]:
    """Replace every table's rows (and the image store) with the archive's, in one transaction."""
    with zipfile.ZipFile(source) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"{source}: unsupported backup format {manifest.get('format')}")
        if manifest["schema"] != migrate.newest_revision():
            raise ValueError(
                f"{source}: made at schema {manifest['schema']}, this version "
                f"expects {migrate.newest_revision()}; restore with the matching "
                "mesoclinic version first"
            )
        counts: dict[str, int] = {}
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
            for table in metadata.sorted_tables:
                raw = archive.read(f"tables/{table.name}.jsonl").decode()
                readers = {column.name: _decoder(column.type) for column in table.c}
                rows = [_decode(readers, json.loads(line)) for line in raw.splitlines() if line]
                if rows:
                    conn.execute(insert(table), rows)
                counts[table.name] = len(rows)
            _reset_sequences(conn)
        _restore_images(archive, images_dir)
    return counts


def _reset_sequences(conn: Connection) -> None:
    """Move PostgreSQL serial counters past the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )


def _restore_images(archive: zipfile.ZipFile, images_dir: Path) -> None:
    members = [m for m in archive.namelist() if m.startswith("images/") and not m.endswith("/")]
    root = images_dir.resolve()
    for member in members:
        target = (images_dir / member.removeprefix("images/")).resolve()
        if not target.is_relative_to(root):
            raise ValueError(f"unsafe path in backup: {member}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(member))


def backup_command(file: Annotated[Path, typer.Argument(help="archive to write (.zip)")]) -> None:
    """Take a consistent copy of the database and images while the app runs."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    counts = backup(engine, settings.images_dir, file)
    Console().print(
        f"backup written to {file}: {sum(counts.values())} rows in {len(counts)} tables"
    )


def restore_command(
    file: Annotated[Path, typer.Argument(help="archive from `backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Replace the database and images with a backup (everything current is overwritten)."""
    if not file.is_file():
        Console(stderr=True).print(f"error: {file} does not exist")
        raise typer.Exit(1)
    if not yes and not typer.confirm("Replace ALL current data with this backup?"):
        raise typer.Exit(1)
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    try:
        counts = restore(engine, settings.images_dir, file)
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        Console(stderr=True).print(f"error: cannot restore {file}: {exc}")
        raise typer.Exit(1) from exc
    Console().print(f"restored {sum(counts.values())} rows from {file}")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
