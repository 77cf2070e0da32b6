"""Whether a running trial's worker is still alive, on every storage.

A worker killed in the middle of a trial (``kill -9``, a lost machine, a preempted GPU)
leaves its trial RUNNING for ever unless someone notices. Two mechanisms notice:

* RDB storages (SQLite, PostgreSQL): Optuna's heartbeat. Every running trial beats
  (:class:`Heartbeat`); :func:`reap_dead_trials` calls ``optuna.storages.fail_stale_trials``,
  which fails a trial silent for longer than the grace period and runs the storage's
  callback (:func:`~stylecast.tuning.storage.stale_trial_callback`: the reason recorded, a
  copy with the same values queued).
* Optuna's journal has no heartbeat (Optuna 5.0), so a journal trial carries its owner
  (:data:`OWNER_ATTR`: host, pid and the process's start time) and beats into
  :data:`BEAT_ATTR`. A RUNNING trial is dead when its owner process is gone from this
  machine (checked at once: no grace period), or when its beat (or its start) is older than
  the grace period (owners on other machines sharing the journal file).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from stylecast.tuning.storage import stale_trial_callback

__all__ = [
    "BEAT_ATTR",
    "OWNER_ATTR",
    "Heartbeat",
    "claim",
    "process_alive",
    "reap_dead_trials",
    "stale_reason",
]

OWNER_ATTR = "stylecast:owner"
BEAT_ATTR = "stylecast:beat"


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (None: no such process)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def _process_token(pid: int) -> str | None:
    """The process's start time (clock ticks since boot): a reused pid has another one."""
    fields = _stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def process_alive(pid: int, token: str | None = None) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie or a reused pid does not)."""
    if pid == os.getpid():
        return True
    if Path("/proc").is_dir():
        fields = _stat(pid)
        if fields is None:
            return False
        if fields and fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
            return False
        return token is None or _process_token(pid) in (None, token)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(trial: Any, storage: Any, *, session: str) -> str:
    """Mark ``trial`` as this process's (and this command's); returns the ``host:pid`` id."""
    host, pid = socket.gethostname(), os.getpid()
    worker = f"{host}:{pid}"
    trial.set_user_attr("worker", worker)
    trial.set_user_attr("session", session)
    owner = {"host": host, "pid": pid, "token": _process_token(pid), "number": trial.number}
    storage.set_trial_system_attr(trial._trial_id, OWNER_ATTR, owner)
    return worker


def _local_owner_gone(trial: Any) -> tuple[bool, str | None]:
    """(whether the trial's worker ran on this machine, why it is gone, or None if alive)."""
    owner = trial.system_attrs.get(OWNER_ATTR) or {}
    # A retried trial carries its predecessor's owner: only this trial's own counts.
    if owner.get("number") != trial.number or owner.get("host") != socket.gethostname():
        return False, None
    pid = int(owner.get("pid", -1))
    if process_alive(pid, owner.get("token")):
        return True, None
    return True, f"its worker process {pid} on this machine is gone (killed)"


def stale_reason(trial: Any, *, grace: float, now: float | None = None) -> str | None:
    """Why the RUNNING journal ``trial`` is dead, or None while its worker may be alive."""
    now = time.time() if now is None else now
    local, reason = _local_owner_gone(trial)
    if local:
        return reason
    start = trial.datetime_start.timestamp() if trial.datetime_start else now
    last = max(start, float(trial.system_attrs.get(BEAT_ATTR) or 0.0))
    if now - last > grace:
        return f"its worker sent no heartbeat for {now - last:.0f}s (killed or lost)"
    return None


def reap_dead_trials(
    study: Any, storage: Any, *, journal: bool, grace: float, max_retry: int
) -> list[int]:
    """Fail the RUNNING trials whose worker died and queue them again.

    Returns the numbers of the trials it failed itself (those Optuna's heartbeat fails on
    an RDB storage are reported through the storage's callback).
    """
    import optuna
    from optuna.trial import TrialState

    if not journal:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    on_stale = stale_trial_callback(max_retry)
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # RDB storages: Optuna's heartbeat covers other machines, but a worker killed before
        # its first beat leaves no heartbeat to go stale: a dead process here is dead now.
        reason = stale_reason(trial, grace=grace) if journal else _local_owner_gone(trial)[1]
        if reason is None:
            continue
        try:
            failed = storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first
        if failed:
            on_stale(study, storage.get_trial(trial._trial_id), reason)
            reaped.append(trial.number)
    return reaped


class Heartbeat:
    """Beats for one running trial, in a thread: the RDB heartbeat, or a journal attribute."""

    def __init__(self, storage: Any, trial_id: int, *, interval: float, journal: bool) -> None:
        self.storage, self.trial_id = storage, trial_id
        self.interval, self.journal = interval, journal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        if self.journal:
            self.storage.set_trial_system_attr(self.trial_id, BEAT_ATTR, time.time())
        else:
            self.storage.record_heartbeat(self.trial_id)

    def _run(self) -> None:
        while True:
            # A failed beat (the trial just ended, the database blinked) must not kill
            # the trial: the next one tries again.
            with contextlib.suppress(Exception):
                self.beat()
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Heartbeat:
        enabled = self.journal or (
            hasattr(self.storage, "record_heartbeat") and self.storage.get_heartbeat_interval()
        )
        if enabled and self.interval > 0:
            self._thread = threading.Thread(
                target=self._run, name="stylecast-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
