"""Generated keys in the data folder: every process starting at once ends up with one key."""

from __future__ import annotations

import threading
from pathlib import Path

from mesoclinic.config import shared_key_file


def test_processes_creating_the_key_together_all_read_the_one_that_won(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    start = threading.Barrier(8)
    keys: list[str] = []

    def make() -> None:
        start.wait()
        keys.append(shared_key_file(path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert len(keys[0]) >= 48
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no drafts left


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text("kept-key\n")
    assert shared_key_file(path) == "kept-key"
