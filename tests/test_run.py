"""stylecast.run: the run folder contract, and run folders written by earlier versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stylecast.errors import RunError
from stylecast.run import ModelInfo, Preprocessing, RunFolder, RunInfo
from tests._runs import evaluated_run

PREP = {"img_size": 48, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "resize": "letterbox"}


def _info_json(**over: object) -> dict:
    base = {
        "name": "efficientnet_lite0",
        "timm_name": "tf_efficientnet_lite0",
        "classes": ["FallWinter", "SpringSummer"],
        "preprocessing": dict(PREP),
        "temperature": 1.25,
        "mode": "warmup",
    }
    return base | over


# --------------------------------------------------------------------------- typed objects


def test_preprocessing_round_trip_and_fill_value() -> None:
    prep = Preprocessing(img_size=64, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), fill=255)
    assert Preprocessing.from_json(prep.to_json()) == prep
    assert prep.fill_value == pytest.approx(1.0)  # white after (x - 0.5) / 0.5
    black = Preprocessing(
        img_size=64, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), fill=0
    )
    assert black.fill_value == pytest.approx(-0.485 / 0.229)


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"mean": [0.5] * 3, "std": [0.5] * 3}, "img_size"),
        (PREP | {"img_size": -4}, "between 8 and 4096"),
        (PREP | {"img_size": 1.5}, "integer"),
        (PREP | {"mean": [0.5, 0.5]}, "three finite numbers"),
        (PREP | {"std": [0.5, 0.0, 0.5]}, "positive"),
        (PREP | {"fill": 300}, "between 0 and 255"),
        ([1, 2], "object"),
    ],
)
def test_preprocessing_rejects_malformed(obj: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Preprocessing.from_json(obj)


def test_model_info_keeps_unknown_keys_and_defaults_fill() -> None:
    info = ModelInfo.from_json(_info_json(best={"epoch": 3}))
    assert info.classes == ("FallWinter", "SpringSummer")
    assert info.preprocessing.fill == 255  # written before fill was stored: white
    assert info.temperature == 1.25
    assert info.extra == {"mode": "warmup", "best": {"epoch": 3}}
    again = ModelInfo.from_json(info.to_json())
    assert again == info
    assert info.to_json()["format"] == 2
    assert info.with_temperature(1.0).temperature == 1.0


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({}, "lacks timm_name, classes, preprocessing"),
        ([], "JSON object, not list"),
        (_info_json(classes=["only"]), "two or more distinct"),
        (_info_json(classes=["a", "a"]), "two or more distinct"),
        (_info_json(preprocessing=PREP | {"img_size": -1}), "between 8 and 4096"),
        (_info_json(temperature=0), "temperature must be a positive"),
    ],
)
def test_model_info_errors_name_the_file(obj: object, match: str) -> None:
    with pytest.raises(RunError, match=match) as err:
        ModelInfo.from_json(obj, "/runs/x/model.json")
    assert "/runs/x/model.json" in str(err.value)


def test_run_info_image_root(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("path,label\n")
    assert RunInfo(data=tmp_path / "manifest.csv").image_root == tmp_path
    # A manifest that has since moved away is still known by its name.
    assert RunInfo(data=tmp_path / "gone" / "m.parquet").image_root == tmp_path / "gone"
    assert RunInfo(data=tmp_path).image_root == tmp_path
    info = RunInfo.from_json({"data": str(tmp_path), "created": "2026-01-01", "seed_note": 1})
    assert info.extra == {"seed_note": 1}
    assert RunInfo.from_json(info.to_json()) == info


def test_run_folder_errors(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "nope")
    with pytest.raises(RunError, match="does not exist"):
        run.model_info()
    run = RunFolder(tmp_path)
    with pytest.raises(RunError, match="not a stylecast run folder"):
        run.info()
    with pytest.raises(RunError, match="no splits.csv"):
        run.splits()
    assert not run.holds_run() and not run.has_model()
    run.model_file.write_text("{not json")
    with pytest.raises(RunError, match="unreadable"):
        run.model_info()
    assert run.holds_run()
    assert run.model_file == tmp_path / RunFolder.MODEL
    assert run.read_json_if_present("absent.json") is None


# --------------------------------------------------------------------------- old run folders


def _as_old_format(run: Path, *, with_fill: bool) -> None:
    """Rewrite model.json the way stylecast 0.1.0 wrote it (no format key, a plain dict)."""
    meta = json.loads((run / "model.json").read_text())
    prep = meta["preprocessing"]
    old_prep = {k: prep[k] for k in ("img_size", "mean", "std", "resize")}
    if with_fill:
        old_prep["fill"] = 255
    old = {
        "name": meta["name"],
        "timm_name": meta["timm_name"],
        "classes": meta["classes"],
        "preprocessing": old_prep,
        "temperature": meta["temperature"],
        "mode": meta["mode"],
        "best": meta["best"],
        "trained_on": meta["trained_on"],
        "stylecast_version": "0.1.0",
    }
    (run / "model.json").write_text(json.dumps(old, indent=2))


@pytest.mark.parametrize("with_fill", [True, False])
def test_old_format_run_still_loads(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path, with_fill: bool
) -> None:
    from stylecast.config import EvaluateConfig
    from stylecast.evaluation import evaluate
    from stylecast.inference import Predictor
    from stylecast.report import build_report

    run = evaluated_run(tmp_path_factory, lookbook)
    before = json.loads((run / "evaluation.json").read_text())
    _as_old_format(run, with_fill=with_fill)

    predictor = Predictor.from_run(run)
    assert predictor.classes_ == ["FallWinter", "SpringSummer"]
    assert predictor.prep.fill == 255
    images = sorted((lookbook / "FallWinter").glob("*.jpg"))[:3]
    proba = predictor.predict_proba(images)
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1.0)

    ev = evaluate(run, cfg=EvaluateConfig(n_bootstrap=50, gallery_size=0), progress=False)
    assert ev.headline.n == before["n"]
    assert ev.metrics["accuracy"] == pytest.approx(before["accuracy"])
    assert RunFolder(run).model_info().preprocessing.img_size == 48
    report = build_report(run, galleries=False)
    assert report.path.is_file() and "FallWinter" in report.path.read_text()


# --------------------------------------------------------------------------- ownership


def test_check_new_refuses_what_a_run_would_damage(tmp_path: Path) -> None:
    RunFolder(tmp_path / "fresh").check_new()  # absent: fine
    (tmp_path / "empty").mkdir()
    RunFolder(tmp_path / "empty").check_new()  # empty: fine
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(RunError, match="is a file"):
        RunFolder(tmp_path / "a-file").check_new()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my own report")
    with pytest.raises(RunError, match=r"not empty \(report.html\) and holds no stylecast run"):
        RunFolder(mine).check_new()
    (mine / "report.html").unlink()
    (mine / RunFolder.CONFIG).write_text("mode: head\n")
    with pytest.raises(RunError, match="already holds a run"):
        RunFolder(mine).check_new()


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "r")
    with run.lock():
        assert (run.path / RunFolder.LOCK).read_text().strip() == str(__import__("os").getpid())
        with pytest.raises(RunError, match="in use by another stylecast process"), run.lock():
            pass
    with run.lock():  # released on exit
        pass
    with pytest.raises(RunError, match="cannot create the run folder"):
        (tmp_path / "f").write_text("x")
        with RunFolder(tmp_path / "f" / "sub").lock():
            pass


def test_train_refuses_a_folder_of_user_files(tmp_path: Path, lookbook: Path) -> None:
    from tests.conftest import run_cli

    out = tmp_path / "mine"
    out.mkdir()
    (out / "metrics.csv").write_text("my numbers\n")
    res = run_cli("train", str(lookbook), "--out", str(out), "--mode", "head", timeout=120)
    assert res.returncode == 1
    assert "not empty (metrics.csv) and holds no stylecast run" in res.stderr
    assert "Traceback" not in res.stderr
    assert (out / "metrics.csv").read_text() == "my numbers\n"
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv"]


def test_second_train_into_a_locked_run_gets_one_line(tmp_path: Path, lookbook: Path) -> None:
    from tests.conftest import run_cli

    out = RunFolder(tmp_path / "busy")
    with out.lock():  # another process is writing this run
        res = run_cli(
            "train",
            str(lookbook),
            "--out",
            str(out.path),
            "--mode",
            "head",
            "--img-size",
            "48",
            timeout=120,
        )
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "is in use by another stylecast process" in last
    assert "Traceback" not in res.stderr
    assert not out.holds_run()


def test_stale_temporaries_are_removed_under_the_lock(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.checkpoint_dir.mkdir()
    left = [
        tmp_path / ".model.safetensors.abc123.safetensors.tmp",
        run.checkpoint_dir / ".last.pt.x.pt.tmp",
    ]
    for p in left:
        p.write_bytes(b"")
    keep = tmp_path / "notes.tmp"  # not a hidden atomic-write temporary: not ours to delete
    keep.write_text("x")
    assert sorted(run.remove_stale_temporaries()) == sorted(left)
    assert not any(p.exists() for p in left) and keep.exists()


def test_resume_after_a_kill_during_evaluation_finishes_it(
    tmp_path_factory: pytest.TempPathFactory, lookbook: Path
) -> None:
    from tests.conftest import run_cli

    run = evaluated_run(tmp_path_factory, lookbook)
    for name in (RunFolder.EVALUATION, RunFolder.REPORT, RunFolder.PREDICTIONS):
        (run / name).unlink(missing_ok=True)
    stale = run / ".model.safetensors.dead.safetensors.tmp"
    stale.write_bytes(b"")  # killed mid-save
    res = run_cli("train", "--resume", str(run), "--quiet", timeout=300)
    assert res.returncode == 0, res.stderr
    assert "is trained; finishing its evaluation and report" in res.stdout
    assert (run / RunFolder.EVALUATION).is_file() and (run / RunFolder.REPORT).is_file()
    assert not stale.exists()
    res = run_cli("train", "--resume", str(run), "--quiet", timeout=120)
    assert res.returncode == 1
    assert "already complete; nothing to resume (`stylecast evaluate" in res.stderr


def test_external_evaluation_folders(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    (tmp_path / "looks 2024").mkdir()
    first = run.external_evaluation(tmp_path / "looks 2024")
    assert first.path == run.path / "evaluations" / "looks-2024"
    first.path.mkdir(parents=True)
    first.evaluation_file.write_text(json.dumps({"data": str((tmp_path / "looks 2024").resolve())}))
    assert run.external_evaluation(tmp_path / "looks 2024").path == first.path  # same data
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "looks 2024").mkdir()
    other = run.external_evaluation(tmp_path / "b" / "looks 2024")
    assert other.path == run.path / "evaluations" / "looks-2024-2"  # same name, other data
    (tmp_path / "m.csv").write_text("path,label\n")
    assert run.external_evaluation(tmp_path / "m.csv").path.name == "m"
