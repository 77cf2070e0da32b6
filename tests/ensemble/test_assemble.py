"""`stylecast ensemble RUN... --out E`: separately trained runs on one split become one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylecast.config import TrainConfig
from stylecast.ensemble import build_ensemble
from stylecast.errors import RunError
from stylecast.run import RunFolder
from stylecast.training import train
from tests._runs import TRAIN_KW
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def runs(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Runs on one split (seed 0 and 5, and 16-epoch-head), one at another size, one on
    another split."""
    root = tmp_path_factory.mktemp("assemble")
    a = root / "a"
    train(lookbook, TrainConfig(**TRAIN_KW), out=a, progress=False)
    splits = RunFolder(a).splits_file
    b = root / "b"
    train(
        lookbook,
        TrainConfig(**{**TRAIN_KW, "seed": 5, "head_epochs": 16}),
        out=b,
        progress=False,
        splits_csv=splits,
    )
    small = root / "small"
    train(
        lookbook,
        TrainConfig(**{**TRAIN_KW, "img_size": 40}),
        out=small,
        progress=False,
        splits_csv=splits,
    )
    other = root / "other"
    train(lookbook, TrainConfig(**{**TRAIN_KW, "seed": 3}), out=other, progress=False)
    return {"a": a, "b": b, "small": small, "other": other}


def test_runs_on_one_split_become_an_evaluated_ensemble(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "ens"
    res = run_cli("ensemble", str(runs["a"]), str(runs["b"]), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"ensemble of 2 in {out}: members' val accuracy" in res.stdout
    assert "ensemble of 2 members on the same" in res.stdout  # the evaluation's table
    info = RunFolder(out).model_info()
    assert [m.seed for m in info.members] == [0, 5]
    assert info.members[0].variant == "" and info.members[1].variant == "head_epochs=16"
    # The members are copies: the ensemble does not depend on the original folders.
    for k in (0, 1):
        assert (out / "members" / str(k) / "model.safetensors").is_file()
    assert (out / "report.html").is_file() and (out / "evaluation.json").is_file()
    assert "ensemble: 2" in (out / "config.yaml").read_text()


def test_runs_that_do_not_fit_together_are_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(RunError, match="different image sizes"):
        build_ensemble([runs["a"], runs["small"]], tmp_path / "x")
    with pytest.raises(RunError, match="another split"):
        build_ensemble([runs["a"], runs["other"]], tmp_path / "y")
    with pytest.raises(RunError, match="at least two runs"):
        build_ensemble([runs["a"]], tmp_path / "z")
    with pytest.raises(RunError, match="given twice"):
        build_ensemble([runs["a"], runs["a"]], tmp_path / "w")
    assert not any((tmp_path / n).exists() for n in "xyzw")
    res = run_cli("ensemble", str(runs["a"]), str(runs["small"]), "--out", str(tmp_path / "v"))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "different image sizes: " in res.stderr


def test_an_ensemble_never_writes_into_someone_elses_folder(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not empty"):
        build_ensemble([runs["a"], runs["b"]], taken)
    assert (taken / "notes.txt").read_text() == "mine" and len(list(taken.iterdir())) == 1
