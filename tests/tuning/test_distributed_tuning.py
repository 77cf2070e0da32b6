"""Studies that survive a worker killed with SIGKILL in the middle of a trial: two workers on
the journal file (the default for several workers), and on a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna

from stylecast.run import RunFolder
from stylecast.tuning.liveness import OWNER_ATTR, process_alive, stale_reason
from stylecast.tuning.loop import session_counts
from stylecast.tuning.storage import resolve_storage
from tests.tuning._study import postgres_url, space_file

# Fine-tuning trials of 6 epochs on 32 px images: a few seconds each, so a kill lands
# in the middle of one.
TRIAL_FLAGS = [
    *("--mode", "finetune", "--img-size", "32", "--epochs", "6", "--batch-size", "16"),
    *("--group-column", "group", "--no-pretrained", "--patience", "0"),
    *("--pruner", "none", "--sampler-seed", "0", "--trials", "3", "--workers", "2"),
]
SPACE = "lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}\n"


def _kill_a_worker_mid_trial(
    proc: subprocess.Popen, study_name: str, storage: object
) -> tuple[int, int]:
    """SIGKILL the worker of the first trial that is training; (trial, pid).

    Training starts once the trial's values are drawn; on an idle machine a whole trial
    takes a few seconds, too short a window to wait for its first epoch's report as well."""
    deadline = time.time() + 240
    # One storage for every poll: a URL would open a new engine (and a PostgreSQL connection
    # that lingers) every 20 ms, and the server ran out of connection slots.
    opened = None if isinstance(storage, str) else storage
    while time.time() < deadline and proc.poll() is None:
        try:
            if opened is None:
                opened = optuna.storages.RDBStorage(str(storage))
            study = optuna.load_study(study_name=study_name, storage=opened)
        # Not created yet, or its tables are being created by the command right now.
        except Exception:  # noqa: BLE001
            time.sleep(0.2)
            continue
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if t.params and "worker" in t.user_attrs:
                pid = int(t.user_attrs["worker"].split(":")[-1])
                os.kill(pid, signal.SIGKILL)
                return t.number, pid
        time.sleep(0.02)
    raise AssertionError(f"no trial ran an epoch in time: {proc.communicate()}")


def _check_survived(study: optuna.Study, killed: int, pid: int, err: str) -> None:
    trials = {t.number: t for t in study.trials}
    # The killed trial ended FAIL, not RUNNING for ever ...
    assert trials[killed].state.name == "FAIL", trials[killed]
    assert not [t for t in trials.values() if t.state.name in ("RUNNING", "WAITING")]
    # ... was queued again with the same values, and its retry completed ...
    (retry,) = [t for t in trials.values() if t.system_attrs.get("failed_trial") == killed]
    assert retry.state.name == "COMPLETE" and retry.params == trials[killed].params
    assert int(retry.user_attrs["worker"].split(":")[-1]) != pid
    # ... and the command reached its trial count: 3 finished trials (the retry in place
    # of the killed one).
    complete = [t for t in trials.values() if t.state.name == "COMPLETE"]
    assert len(complete) == 3 and len(trials) == 4
    session = retry.user_attrs["session"]
    assert session_counts(study.trials, session) == (3, 0)
    assert f"trial {killed}: " in err and "marked FAIL; queued again" in err
    assert f"trial {retry.number} (retry of trial {killed}) COMPLETE" in err
    assert "stopped early; the other workers ran its trials" in err


def _tune(lookbook: Path, out: Path, space: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "stylecast", "tune", str(lookbook), "--out", str(out)]
        + ["--space", space, *TRIAL_FLAGS, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_a_journal_study_survives_a_worker_killed_mid_trial(lookbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "study"
    proc = _tune(lookbook, out, space_file(tmp_path, SPACE), "--study-name", "j")
    url = f"journal:{(out / 'study.log').resolve()}"
    assert resolve_storage(None, out, workers=2) == url  # several workers: the journal
    from stylecast.tuning.storage import open_storage

    while not (out / "study.log").is_file() and proc.poll() is None:
        time.sleep(0.1)
    storage = open_storage(url)
    killed, pid = _kill_a_worker_mid_trial(proc, "j", storage)
    stdout, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "worker 1 (killed by signal 9)" in err or "worker 2 (killed by signal 9)" in err
    assert f"its worker process {pid} on this machine is gone (killed)" in err
    assert not (out / "study.db").exists()
    _check_survived(optuna.load_study(study_name="j", storage=storage), killed, pid, err)
    assert "FAIL" in stdout  # the trials table shows the killed trial


def test_a_postgresql_study_survives_a_worker_killed_mid_trial(
    lookbook: Path, tmp_path: Path
) -> None:
    url, cleanup = postgres_url()
    try:
        out = tmp_path / "pg"
        proc = _tune(
            lookbook,
            out,
            space_file(tmp_path, SPACE),
            *("--storage", url, "--study-name", "pg", "--heartbeat", "1", "--grace-period", "3"),
        )
        storage = url.replace("postgresql://", "postgresql+psycopg://")
        killed, pid = _kill_a_worker_mid_trial(proc, "pg", storage)
        stdout, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        # Found either way: its process gone from this machine (even before its first
        # heartbeat), or Optuna's heartbeat silent for longer than the grace period.
        assert (
            f"its worker process {pid} on this machine is gone (killed)" in err
            or "its worker stopped sending heartbeats (killed or lost); marked FAIL" in err
        ), err[-3000:]
        _check_survived(optuna.load_study(study_name="pg", storage=storage), killed, pid, err)
    finally:
        cleanup()


class _Trial:
    """What stale_reason reads of a trial."""

    def __init__(self, number: int, owner: dict, started: float, beat: float | None = None):
        import datetime as dt

        self.number = number
        self.system_attrs = {OWNER_ATTR: owner} | ({"stylecast:beat": beat} if beat else {})
        self.datetime_start = dt.datetime.fromtimestamp(started)


def test_a_journal_trial_is_dead_when_its_process_is_gone_or_silent() -> None:
    host, now = socket.gethostname(), time.time()
    me = {"host": host, "pid": os.getpid(), "number": 5}
    assert stale_reason(_Trial(5, me, now - 999), grace=60, now=now) is None  # alive: no grace
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    gone = {"host": host, "pid": child.pid, "number": 5}
    assert not process_alive(child.pid)
    assert stale_reason(_Trial(5, gone, now), grace=60, now=now) == (
        f"its worker process {child.pid} on this machine is gone (killed)"
    )
    # A zombie (killed, not yet reaped by its parent) is dead too.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(0.5)
    assert not process_alive(zombie.pid)
    zombie.wait()
    # Another machine's worker: dead once its last beat (or its start) is older than grace.
    far = {"host": "elsewhere", "pid": 1, "number": 5}
    assert stale_reason(_Trial(5, far, now - 30), grace=60, now=now) is None
    assert stale_reason(_Trial(5, far, now - 90, beat=now - 10), grace=60, now=now) is None
    assert stale_reason(_Trial(5, far, now - 90, beat=now - 70), grace=60, now=now) == (
        "its worker sent no heartbeat for 70s (killed or lost)"
    )
    # A retried trial carries its predecessor's owner: that one is not this trial's.
    assert stale_reason(_Trial(6, gone, now), grace=60, now=now) is None


def test_the_default_storage_follows_the_workers_and_what_the_folder_holds(
    tmp_path: Path,
) -> None:
    db, log = (tmp_path / "study.db").resolve(), (tmp_path / "study.log").resolve()
    assert resolve_storage(None, tmp_path) == f"sqlite:///{db}"
    assert resolve_storage(None, tmp_path, workers=3) == f"journal:{log}"
    db.write_bytes(b"")  # an existing SQLite study keeps its storage
    assert resolve_storage(None, tmp_path, workers=3) == f"sqlite:///{db}"
    db.unlink()
    log.write_text("")  # and so does a journal, with one worker
    assert resolve_storage(None, tmp_path, workers=1) == f"journal:{log}"


def test_a_torchrun_job_is_one_worker_whose_trials_train_on_all_its_processes(
    lookbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "job"
    # Trials in stylecast train's mode (warmup): the head on rank 0, fine-tuning on both.
    res = subprocess.run(
        [sys.executable, *("-m", "torch.distributed.run", "--standalone"), "--nproc_per_node=2"]
        + ["-m", "stylecast", "tune", str(lookbook), "--out", str(out), "--quiet"]
        + ["--space", space_file(tmp_path, SPACE), *TRIAL_FLAGS[2:-4], "--epochs", "2"]
        + ["--trials", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.count("study 'stylecast-") == 1  # rank 0 alone reports
    study = optuna.load_study(
        study_name=f"stylecast-{lookbook.name}", storage=f"sqlite:///{out}/study.db"
    )
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    best = study.best_trial.number
    # The best trial keeps its model: trained by both processes, with the global batch.
    info = RunFolder(out / "trials" / str(best)).model_info()
    assert info.extra["processes"] == 2 and info.extra["global_batch_size"] == 16
