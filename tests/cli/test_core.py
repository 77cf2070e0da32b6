"""``stylecast train`` and ``stylecast model`` as a user runs them: a subprocess, its output,
its files and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli

FAST = ["--img-size", "64", "--head-epochs", "12", "--epochs", "1", "--batch-size", "16"]


@pytest.fixture(scope="module")
def trained_run(lookbook: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run = tmp_path_factory.mktemp("cli") / "run"
    cfg = run.parent / "train.yaml"
    cfg.write_text("group_column: group\nlr: 0.001\nepochs: 5\n")
    res = run_cli("train", str(lookbook), "--out", str(run), "--config", str(cfg), *FAST, "--quiet")
    assert res.returncode == 0, res.stderr
    return run, res.stdout


def test_train_writes_a_complete_run(trained_run: tuple[Path, str]) -> None:
    run, stdout = trained_run
    for name in (
        "config.yaml",
        "run.json",
        "splits.csv",
        "metrics.csv",
        "model.safetensors",
        "model.json",
        "model_summary.txt",
        "evaluation.json",
        "predictions.csv",
        "confusion_matrix.png",
        "report.html",
    ):
        assert (run / name).is_file(), name
    assert not (run / "checkpoint").exists()  # a finished run keeps no checkpoint
    assert "accuracy:" in stdout and "report:" in stdout
    config = (run / "config.yaml").read_text()
    assert "lr: 0.001" in config  # from the YAML file
    assert "epochs: 1" in config  # the flag beat the YAML file
    assert "group_column: group" in config
    splits = pd.read_csv(run / "splits.csv")
    assert set(splits["split"]) == {"train", "val", "test"}
    assert {"brand", "period", "group"} <= set(splits.columns)
    assert splits.groupby("group")["split"].nunique().max() == 1
    meta = json.loads((run / "model.json").read_text())
    assert meta["classes"] == ["FallWinter", "SpringSummer"]
    assert meta["preprocessing"]["img_size"] == 64
    metrics = pd.read_csv(run / "metrics.csv")
    assert {"phase", "epoch", "train_loss", "val_loss", "val_accuracy", "images_per_s"} <= set(
        metrics
    )


def test_separable_images_are_learned(trained_run: tuple[Path, str]) -> None:
    run, _ = trained_run
    ev = json.loads((run / "evaluation.json").read_text())
    assert ev["split"] == "test"
    assert ev["accuracy"] >= 0.85  # chance is 0.5
    assert sum(map(sum, ev["confusion_matrix"])) == ev["n"]


@pytest.mark.parametrize("case", ["missing", "empty", "one_class", "not_images"])
def test_bad_data_is_one_line_exit_1_and_no_run_folder(case: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    if case != "missing":
        data.mkdir()
    if case == "one_class":
        from PIL import Image

        (data / "Fall").mkdir()
        for i in range(3):
            Image.new("RGB", (32, 32), (i, 0, 0)).save(data / "Fall" / f"{i}.png")
    if case == "not_images":
        (data / "a").mkdir()
        (data / "a" / "notes.txt").write_text("hi")
    out = tmp_path / "run"
    res = run_cli("train", str(data), "--out", str(out))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in res.stderr
    expected = {
        "missing": "does not exist",
        "empty": "no images found",
        "one_class": "only one class",
        "not_images": "no images found",
    }[case]
    assert expected in lines[0]
    assert not out.exists()


def test_unknown_config_key_is_one_line(tmp_path: Path, lookbook: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("epochz: 3\n")
    res = run_cli("train", str(lookbook), "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert res.returncode == 1
    assert "unknown key 'epochz'" in res.stderr and "did you mean 'epochs'" in res.stderr
    assert not (tmp_path / "r").exists()


def test_model_summary_and_list() -> None:
    res = run_cli("model", "summary", "efficientnet_lite0", "--img-size", "96")
    assert res.returncode == 0
    assert "Total params" in res.stdout and "mult-adds" in res.stdout.lower()
    res = run_cli("model", "list")
    assert "efficientnet_lite0" in res.stdout and "stylecast[lite1]" in res.stdout


def test_model_list_shows_the_image_size_train_uses() -> None:
    # Issue 25.10: the list showed only the backbone's native size (224), not train's 128.
    from stylecast.config import TrainConfig

    res = run_cli("model", "list")
    assert res.returncode == 0
    line = next(x for x in res.stdout.splitlines() if x.startswith("efficientnet_lite0 "))
    assert f"train: {TrainConfig().img_size} px" in line and "native 224 px" in line
    assert "--img-size" in res.stdout


def test_a_manifest_of_absolute_paths_trains_evaluates_and_reports(
    tmp_path: Path, lookbook: Path
) -> None:
    table = pd.read_csv(lookbook / "manifest.csv")
    table["path"] = [str((lookbook / p).resolve()) for p in table["path"]]
    elsewhere = tmp_path / "lists"
    elsewhere.mkdir()
    manifest = elsewhere / "abs.csv"  # far from the images: paths do not depend on it
    table.to_csv(manifest, index=False)
    run = tmp_path / "run"
    res = run_cli(
        "train", str(manifest), "--mode", "head", "--img-size", "48", "--out", str(run), "--quiet"
    )
    assert res.returncode == 0, res.stderr
    assert (run / "report.html").is_file() and (run / "evaluation.json").is_file()
    splits = pd.read_csv(run / "splits.csv")
    assert all(Path(p).is_absolute() for p in splits["path"])
    assert (run / "galleries.json").is_file()
    res = run_cli("evaluate", str(run), str(manifest))
    assert res.returncode == 0, res.stderr
    assert "IndexError" not in res.stderr and "internal error" not in res.stderr


def test_epochs_help_matches_what_head_mode_does() -> None:
    """--epochs is fine-tuning's; head mode fits over --head-epochs values of C (its rows)."""
    res = run_cli("train", "--help")
    text = " ".join(res.stdout.split())
    assert "--epochs EPOCHS fine-tune epochs (finetune and warmup modes; head mode fits its" in text
    assert "over --head-epochs values of C" in text
    assert "head epochs in head mode" not in text
