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


def test_a_worker_that_loses_the_race_to_create_the_tables_opens_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import optuna

    from stylecast.errors import RunError
    from stylecast.tuning.storage import CREATION_TRIES, open_storage

    real = optuna.storages.RDBStorage
    calls = []

    def racing(url: str, **kw: object) -> object:
        # What PostgreSQL says to the second of two workers creating a new database's tables.
        calls.append(url)
        if len(calls) < 3:
            raise RuntimeError(
                'duplicate key value violates unique constraint "pg_type_typname_nsp_index"'
            )
        return real(url, **kw)

    monkeypatch.setattr("stylecast.tuning.storage.time.sleep", lambda _s: None)
    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = open_storage(url, heartbeat_interval=None)
    assert isinstance(storage, real) and len(calls) == 3
    # Any other error is said at once, and a race lost every time ends in one line.
    calls.clear()
    monkeypatch.setattr(optuna.storages, "RDBStorage", lambda url, **kw: calls.append(url) or 1 / 0)
    with pytest.raises(RunError, match="cannot open the study storage .*division by zero"):
        open_storage(url, heartbeat_interval=None)
    assert len(calls) == 1

    def always(url: str, **kw: object) -> object:
        calls.append(url)
        raise RuntimeError('relation "studies" already exists')

    calls.clear()
    monkeypatch.setattr(optuna.storages, "RDBStorage", always)
    with pytest.raises(RunError, match='relation "studies" already exists'):
        open_storage(url, heartbeat_interval=None)
    assert len(calls) == CREATION_TRIES
