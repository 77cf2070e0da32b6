"""Bad output paths and empty predictions: one clear line and exit code 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecast.errors import ConfigError
from stylecast.fileio import writable_file
from tests._runs import evaluated_run
from tests.conftest import run_cli


def test_writable_file_says_why_not(tmp_path: Path) -> None:
    assert writable_file(tmp_path / "new" / "deeper" / "p.csv") == tmp_path / "new/deeper/p.csv"
    with pytest.raises(ConfigError, match="is a folder; give a file name"):
        writable_file(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match=r"is a file, not a folder"):
        writable_file(tmp_path / "f" / "p.csv")
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    import os

    if os.geteuid() != 0:  # root writes anywhere: the check is meaningless there
        with pytest.raises(ConfigError, match="not writable"):
            writable_file(locked / "p.csv")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, lookbook: Path) -> Path:
    return evaluated_run(tmp_path_factory, lookbook)


@pytest.mark.parametrize(
    ("command", "match"),
    [
        (["predict", "{run}", "{img}", "--out", "{tmp}"], "is a folder; give a file name"),
        (["predict", "{run}", "{img}", "--out", "{file}/p.csv"], "is a file, not a folder"),
        (["report", "{run}", "--out", "{file}/r.html"], "is a file, not a folder"),
        (["compare", "{run}", "{run}", "--out", "{tmp}"], "is a folder; give a file name"),
        (["data", "check", "{img_dir}", "--out", "{tmp}"], "is a folder; give a file name"),
    ],
)
def test_bad_output_paths(
    run: Path, lookbook: Path, tmp_path: Path, command: list[str], match: str
) -> None:
    (tmp_path / "file").write_text("x")
    img = next((lookbook / "FallWinter").glob("*.jpg"))
    fill = {
        "run": run,
        "img": img,
        "tmp": tmp_path,
        "file": tmp_path / "file",
        "img_dir": lookbook / "FallWinter",
    }
    res = run_cli(*[c.format(**{k: str(v) for k, v in fill.items()}) for c in command])
    assert res.returncode == 1, res.stderr
    assert match in res.stderr and "Traceback" not in res.stderr and "internal" not in res.stderr


def test_predict_with_no_readable_image_fails(run: Path, tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"not an image")
    res = run_cli("predict", str(run), str(tmp_path / "a.jpg"))
    assert res.returncode == 1
    assert "none of the 1 image(s) could be read" in res.stderr


def test_predict_on_a_never_evaluated_run_says_uncalibrated(
    run: Path, lookbook: Path, tmp_path: Path
) -> None:
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    (bare / "evaluation.json").unlink()
    img = next((lookbook / "FallWinter").glob("*.jpg"))
    res = run_cli("predict", str(bare), str(img))
    assert res.returncode == 0, res.stderr
    assert "was never evaluated, so these probabilities are not calibrated" in res.stderr
    res = run_cli("predict", str(run), str(img))
    assert "not calibrated" not in res.stderr


# ---------------------------------------------------------------- issue 25.9: a run in training


def _training_run(path: Path) -> Path:
    """A run folder as training leaves it between epochs: config, run.json, a checkpoint."""
    (path / "checkpoint").mkdir(parents=True)
    (path / "checkpoint" / "last.pt").write_bytes(b"checkpoint")
    (path / "config.yaml").write_text("epochs: 8\n")
    (path / "run.json").write_text("{}")
    return path


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_stopped_run_says_a_checkpoint_waits_for_resume(command: str, tmp_path: Path) -> None:
    run = _training_run(tmp_path / "run")
    (tmp_path / "x.jpg").write_bytes(b"")
    args = [command, str(run)] + ([str(tmp_path / "x.jpg")] if command == "predict" else [])
    res = run_cli(*args)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    line = res.stderr
    assert "has not finished training" in line and "checkpoint" in line
    assert f"stylecast train --resume {run}" in line


def test_a_run_still_training_says_so(tmp_path: Path) -> None:
    import fcntl
    import os

    run = _training_run(tmp_path / "run")
    fd = os.open(run / ".stylecast.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"4242\n")
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        res = run_cli("predict", str(run), str(tmp_path))
    finally:
        os.close(fd)
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    assert f"{run} is still training (pid 4242; a checkpoint is in" in res.stderr
    assert f"stylecast train --resume {run}" in res.stderr


def test_an_ensemble_stopped_between_members_names_the_checkpoint(tmp_path: Path) -> None:
    from stylecast.errors import RunError
    from stylecast.run import RunFolder

    run = tmp_path / "run"
    _training_run(run / "members" / "1")
    (run / "members" / "1" / "checkpoint" / "last.pt").rename(run / "x")  # not yet
    RunFolder(run).require_finished()  # nothing saved, nobody training: load_model says why
    (run / "x").rename(run / "members" / "1" / "checkpoint" / "last.pt")
    with pytest.raises(RunError, match=r"has not finished training .*members/1/checkpoint"):
        RunFolder(run).require_finished()
