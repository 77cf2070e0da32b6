"""The trial loop of one worker: claim a trial (or wait), run it, tell Optuna.

``study.optimize(n_trials=k)`` counts a worker's own trials, so a worker killed in the middle
of a study leaves its share unrun. Here the trial count belongs to the command (its
``session``): each worker claims trials until the command's finished trials reach it, and
waits while others still run the last ones. One surviving worker therefore finishes the
study, including the retries of trials whose worker died (found by
:func:`~stylecast.tuning.liveness.reap_dead_trials` before every claim).

Claims happen under a file lock in the study folder, so the workers of one command never
start more trials than it asked for. A trial failed because its worker died does not count
(its retry does); one that failed on its own, or ran out of retries, does.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from stylecast.tuning.liveness import Heartbeat, claim, reap_dead_trials
from stylecast.tuning.spec import DEFAULTS_ATTR, WorkerSpec
from stylecast.tuning.storage import is_journal

__all__ = ["LOCK_NAME", "run_trials", "session_counts"]

LOCK_NAME = ".tune.lock"  # in the study folder: held while a worker claims a trial
POLL_S = 1.0  # how often a worker with nothing to claim looks again
_WAIT, _STOP = "wait", "stop"


def session_counts(trials: Sequence[Any], session: str) -> tuple[int, int]:
    """(finished, running) trials of the command ``session``.

    A FAIL that was queued again (another trial's ``retry_history`` names it) is not
    finished: its retry stands in for it.
    """
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    done = running = 0
    for t in trials:
        if t.user_attrs.get("session") != session:
            continue
        state = t.state.name
        if state == "RUNNING":
            running += 1
        elif state in ("COMPLETE", "PRUNED") or (state == "FAIL" and t.number not in retried):
            done += 1
    return done, running


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An advisory lock on ``path`` (no lock where the platform has no flock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _next_trial(study: Any, storage: Any, spec: WorkerSpec) -> Any:
    """A claimed trial, or ``_WAIT`` (others run the last trials), or ``_STOP``."""

    trials = study.get_trials(deepcopy=False)
    over = spec.deadline is not None and time.time() >= spec.deadline
    # The budget is spent: only a queued baseline (the defaults) still starts.
    baseline = any(t.state.name == "WAITING" and t.user_attrs.get(DEFAULTS_ATTR) for t in trials)
    if over and not baseline:
        return _STOP
    if spec.n_trials is not None:
        done, running = session_counts(trials, spec.session)
        if done >= spec.n_trials:
            return _STOP
        if done + running >= spec.n_trials:
            return _WAIT
    with warnings.catch_warnings():
        # Optuna warns that heartbeats belong to Study.optimize: this loop beats itself.
        warnings.filterwarnings("ignore", message="Heartbeat of storage", category=UserWarning)
        trial = study.ask()
    claim(trial, storage, session=spec.session)
    return trial


def _run_one(
    study: Any,
    storage: Any,
    trial: Any,
    objective: Callable[[Any], float],
    *,
    interval: float,
    journal: bool,
) -> Any:
    """Run ``objective`` on ``trial`` while it beats; tell Optuna how it ended."""
    import optuna
    from optuna.trial import TrialState

    state, value = None, None
    with Heartbeat(storage, trial._trial_id, interval=interval, journal=journal):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except Exception:  # noqa: BLE001 - the objective recorded it; the study goes on
            state = TrialState.FAIL
        except BaseException:
            with contextlib.suppress(Exception):
                study.tell(trial, state=TrialState.FAIL)
            raise
    # Telling may fail if another worker already failed the trial as dead (a long stall):
    # its retry runs again, which is the safe side.
    with contextlib.suppress(Exception):
        if state is None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=state)
    return storage.get_trial(trial._trial_id)


def run_trials(
    study: Any,
    storage: Any,
    spec: WorkerSpec,
    objective: Callable[[Any], float],
    after_trial: Callable[[Any, Any], None],
) -> None:
    """Claim and run trials until the command's count is reached or its budget is spent."""
    cfg = spec.tune_cfg
    journal = is_journal(spec.storage_url)
    grace = float(cfg.grace_period or 2 * cfg.heartbeat_interval)
    lock = Path(spec.out) / LOCK_NAME
    while True:
        with _locked(lock):
            reap_dead_trials(study, storage, journal=journal, grace=grace, max_retry=cfg.max_retry)
            trial = _next_trial(study, storage, spec)
        if isinstance(trial, str):
            if trial == _STOP:
                return
            time.sleep(POLL_S)
            continue
        frozen = _run_one(
            study, storage, trial, objective, interval=cfg.heartbeat_interval, journal=journal
        )
        after_trial(study, frozen)
        gc.collect()
