"""Where a study lives: SQLite in the run folder, any RDB server, or a journal file.

* default: ``OUT/study.db`` (SQLite, embedded, nothing to start) for one worker;
  ``OUT/study.log`` (Optuna's journal file) for several workers on this machine: SQLite
  locks under parallel writers, a journal appends under a file lock. A study folder that
  already holds one of the two keeps using it;
* ``postgresql://user:pw@host/db`` (or ``mysql://``...): workers on many machines share
  one study; ``postgresql://`` is read with psycopg 3 (the ``postgres`` extra);
* ``journal:PATH`` or a ``.log`` file: Optuna's JournalStorage, many processes on one
  machine (or a shared file system) without a database.

RDB storages get a heartbeat: a trial whose worker stops beating (killed, machine lost)
is failed after the grace period by the next worker that starts a trial, and queued again
with the same values (Optuna's ``RetryHeartbeatStaleTrialCallback``, ``max_retry`` times),
so it never blocks the study. Optuna's journal has no heartbeat: :mod:`.liveness` does the
same for it.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stylecast.errors import ConfigError, MissingDependencyError, RunError

__all__ = [
    "STALE_ATTR",
    "is_journal",
    "open_storage",
    "redact",
    "resolve_storage",
    "stale_trial_callback",
]

# Study user attribute recording why a trial was failed by the heartbeat check.
STALE_ATTR = "stylecast:heartbeat_failed:"
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_JOURNAL_SUFFIXES = (".log", ".journal", ".jsonl")


def resolve_storage(storage: str | None, out: Path, workers: int = 1) -> str:
    """A storage URL from what the user wrote.

    None: the study folder's ``study.db`` (SQLite) or ``study.log`` (journal), whichever
    exists; a new study gets SQLite for one worker and the journal for several.
    """
    if storage is None:
        db, log = out / "study.db", out / "study.log"
        if log.is_file() or (workers > 1 and not db.is_file()):
            return f"journal:{log.resolve()}"
        return f"sqlite:///{db.resolve()}"
    s = storage.strip()
    if s.startswith("journal:"):
        path = s[len("journal:") :]
        if not path:
            raise ConfigError("--storage journal:PATH needs a file path")
        return f"journal:{Path(path).expanduser().resolve()}"
    if "://" in s:
        scheme = s.split("://", 1)[0].lower()
        if scheme in ("postgresql", "postgres"):
            # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
            return "postgresql+psycopg://" + s.split("://", 1)[1]
        return s
    p = Path(s).expanduser()
    if p.suffix.lower() in _SQLITE_SUFFIXES:
        return f"sqlite:///{p.resolve()}"
    if p.suffix.lower() in _JOURNAL_SUFFIXES:
        return f"journal:{p.resolve()}"
    raise ConfigError(
        f"--storage {storage!r} is neither a database URL (sqlite:///study.db, "
        "postgresql://user:password@host/db), a .db file nor a journal file (.log, journal:PATH)"
    )


def redact(url: str) -> str:
    """The URL with its password hidden (it is printed and stored in results)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def is_journal(url: str) -> bool:
    return url.startswith("journal:")


def record_stale(study: Any, trial: Any, reason: str) -> None:
    """A trial of a dead worker was failed: say so, and record why (the trials table shows it)."""
    print(f"trial {trial.number}: {reason}", file=sys.stderr, flush=True)
    # Recording the reason must never stop the study.
    with contextlib.suppress(Exception):
        study.set_user_attr(f"{STALE_ATTR}{trial.number}", reason)


def stale_trial_callback(max_retry: int) -> Any:
    """What happens to a trial whose worker died: the reason recorded, and (``max_retry``
    times at most) a copy with the same values queued, which the next free worker runs."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)

    def on_stale(study: Any, trial: Any, reason: str | None = None) -> None:
        again = "; queued again" if max_retry > 0 and _retries(trial) < max_retry else ""
        why = reason or "its worker stopped sending heartbeats (killed or lost)"
        record_stale(study, trial, f"{why}; marked FAIL{again}")
        if max_retry > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retry(study, trial)

    return on_stale


def _retries(trial: Any) -> int:
    return len(trial.system_attrs.get("retry_history", []))


def _one_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip() or type(inner).__name__
    return " ".join(text.splitlines()[0].split())


# Workers that open one new database at once all create its tables; PostgreSQL lets one
# win and fails the others with a duplicate key on its catalogue (pg_type) or "already
# exists". Opened again a moment later, the tables are there and creating them is a no-op.
CREATION_RACE = ("duplicate key value violates unique constraint", "already exists")
CREATION_TRIES = 5


def _retry_creation_race(open_once: Callable[[], Any], pause: float = 0.5) -> Any:
    """``open_once()``, again (up to CREATION_TRIES times) while it loses a creation race."""
    for attempt in range(CREATION_TRIES - 1):
        try:
            return open_once()
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many error types
            if not any(text in _one_line(exc) for text in CREATION_RACE):
                raise
            time.sleep(pause * (attempt + 1))
    return open_once()  # the last try: whatever it raises is the error


def open_storage(
    url: str,
    *,
    heartbeat_interval: int | None = 30,
    grace_period: int | None = None,
    max_retry: int = 3,
) -> Any:
    """An Optuna storage for ``url``; unreachable or unusable storages raise one-line errors.

    RDB storages fail a trial whose worker stopped beating and queue it again
    (``max_retry`` times); journal storages leave that to :mod:`.liveness`.
    """
    import optuna

    shown = redact(url)
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:") :])
        if not path.parent.is_dir():
            raise RunError(f"cannot open the journal {path}: folder {path.parent} does not exist")
        try:
            return JournalStorage(JournalFileBackend(str(path)))
        except Exception as exc:  # noqa: BLE001
            raise RunError(f"cannot open the journal {path}: {_one_line(exc)}") from None
    scheme = url.split("://", 1)[0].lower()
    engine_kwargs: dict[str, Any] = {}
    if scheme.startswith("sqlite"):
        # Several local workers write one file: wait for the lock instead of failing.
        engine_kwargs = {"connect_args": {"timeout": 60}}
        folder = Path(url.split(":///", 1)[-1]).parent
        if not folder.is_dir():
            raise RunError(f"cannot open the study storage {shown}: {folder} does not exist")
    elif scheme.startswith("postgresql"):
        if scheme in ("postgresql", "postgresql+psycopg"):
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    "PostgreSQL storage needs psycopg 3: pip install 'stylecast[postgres]'"
                ) from None
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}

    def rdb() -> Any:
        with warnings.catch_warnings():
            # heartbeat_interval is marked experimental in Optuna; it is what we need.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=(
                    stale_trial_callback(max_retry) if heartbeat_interval else None
                ),
            )

    try:
        return _retry_creation_race(rdb)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the storage {shown} needs a database driver that is not installed ({exc})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many error types
        raise RunError(f"cannot open the study storage {shown}: {_one_line(exc)}") from None
