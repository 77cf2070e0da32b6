"""Where a study lives: storage URLs from what the user wrote, passwords never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecast.errors import ConfigError


def test_storage_urls_and_redaction(tmp_path: Path) -> None:
    from stylecast.tuning.storage import redact, resolve_storage

    assert resolve_storage(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/study.db"
    assert resolve_storage("postgresql://u:pw@h/db", tmp_path) == "postgresql+psycopg://u:pw@h/db"
    assert resolve_storage(str(tmp_path / "s.log"), tmp_path) == f"journal:{tmp_path / 's.log'}"
    assert redact("postgresql+psycopg://me:secret@host/db") == "postgresql+psycopg://me:***@host/db"
    with pytest.raises(ConfigError, match="neither a database URL"):
        resolve_storage("my-study", tmp_path)


def test_redact_is_exported_by_the_room() -> None:
    import stylecast.tuning
    from stylecast.tuning.storage import redact

    assert stylecast.tuning.redact is redact
    assert redact("sqlite:///x/study.db") == "sqlite:///x/study.db"  # nothing to hide
