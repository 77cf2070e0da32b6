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
