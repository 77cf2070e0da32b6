"""``--retrain-best``: the winner and the defaults, each trained on train+val and tested once."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import optuna
import pandas as pd
import pytest

import stylecast.evaluation
from stylecast.config import EvaluateConfig, TuneConfig
from stylecast.data import ImageCache
from stylecast.tuning.results import trial_config
from tests.tuning._study import base_config


def _accuracy(run: Path) -> float:
    return float(json.loads((run / "evaluation.json").read_text())["accuracy"])


@pytest.fixture
def quick_evaluate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluation without galleries and bootstrap: Grad-CAM is what evaluation spends most
    on, and nothing here reads it."""
    real_evaluate = stylecast.evaluation.evaluate

    def evaluate(run, data=None, cfg=None, **kw):  # noqa: ANN001, ANN202 - a test double
        cfg = dataclasses.replace(cfg or EvaluateConfig(), gallery_size=0, n_bootstrap=0)
        return real_evaluate(run, data, cfg, **kw)

    monkeypatch.setattr(stylecast.evaluation, "evaluate", evaluate)


@pytest.mark.usefixtures("quick_evaluate")
def test_the_best_is_tested_against_the_defaults_with_mcnemar(
    lookbook: Path, tmp_path: Path, tuning_cache: ImageCache
) -> None:
    from stylecast.tuning.retrain import retrain_best
    from stylecast.tuning.study import tune

    out, cache = tmp_path / "study", tuning_cache
    res = tune(
        lookbook,
        TuneConfig(trials=2, space="head", sampler_seed=0),
        base_config(),
        out,
        progress=False,
        cache=cache,
    )
    assert res.defaults_config == base_config(mode="head")  # trial 0 trained it
    assert res.defaults_number == 0 and res.defaults_value is not None
    study = optuna.load_study(study_name=res.study_name, storage=f"sqlite:///{out}/study.db")
    # Whatever won here, retrain as if trial 1 (not the defaults) had won.
    # (clearly ahead of the defaults on validation, so the one-standard-error rule lets it be).
    won = dataclasses.replace(
        res,
        best_number=1,
        best_config=trial_config(study.trials[1], res.defaults_config),
        best_value=1.0,
        defaults_value=0.0,
    )
    lines: list[str] = []
    run, metrics, cmp = retrain_best(lookbook, won, cache=cache, progress=False, say=lines.append)
    assert run == out / "best-trial-1" and cmp is not None and not cmp.same_config
    defaults = out / "defaults-retrained"
    assert cmp.best_run == str(run) and cmp.defaults_run == str(defaults)
    assert any("retraining the default configuration on train+val" in x for x in lines)
    # Both trained on train+val, both scored once on the study's untouched test split.
    test = pd.read_csv(out / "splits.csv").query("split == 'test'")
    for folder in (run, defaults):
        splits = pd.read_csv(folder / "splits.csv")
        assert set(splits["split"]) == {"train", "test"}
        assert sorted(splits.query("split == 'test'")["path"]) == sorted(test["path"])
    assert cmp.best_accuracy == _accuracy(run) == metrics["accuracy"]
    assert cmp.defaults_accuracy == _accuracy(defaults)
    assert (run / "config.yaml").read_text() != (defaults / "config.yaml").read_text()
    # McNemar on the shared test images, from the two predictions.csv files.
    preds = [pd.read_csv(f / "predictions.csv").set_index("path") for f in (run, defaults)]
    right = [p["true"] == p["predicted"] for p in preds]
    b = int((right[0] & ~right[1]).sum())
    c = int((~right[0] & right[1]).sum())
    assert (cmp.n_test, cmp.best_only_right, cmp.defaults_only_right) == (len(test), b, c)
    assert 0 < cmp.pvalue <= 1 and cmp.method == ("none" if b + c == 0 else "exact")
    assert json.loads((out / "retrain.json").read_text()) == cmp.to_dict()
    text = "\n".join(cmp.lines())
    assert f"best (trial 1)  {cmp.best_accuracy:.4f}" in text
    assert f"defaults           {cmp.defaults_accuracy:.4f}" in text
    assert f"McNemar's {cmp.method} test: p = {cmp.pvalue:.3g}" in text

    # Again: both runs are reused, not retrained.
    stamp = [(f / "model.safetensors").stat().st_mtime_ns for f in (run, defaults)]
    _, _, again = retrain_best(lookbook, won, cache=cache, progress=False, say=lines.append)
    assert again == cmp
    assert [(f / "model.safetensors").stat().st_mtime_ns for f in (run, defaults)] == stamp

    # When the winner is the default configuration, it is trained once and said so.
    best0 = dataclasses.replace(res, best_number=0, best_config=res.defaults_config)
    run0, _, same = retrain_best(lookbook, best0, cache=cache, progress=False, say=lines.append)
    assert same is not None and same.same_config and same.defaults_run == same.best_run == str(run0)
    assert same.best_accuracy == same.defaults_accuracy == _accuracy(run0)
    assert same.lines() == [
        f"the best trial (0) is the default configuration: trained once; test accuracy "
        f"{same.best_accuracy:.4f} on {len(test)} images"
    ]
    assert json.loads((out / "retrain.json").read_text())["same_config"] is True

    # A best trial within one standard error of the defaults on validation: the defaults are
    # retrained instead (here: reused), and the comparison says why.
    near = dataclasses.replace(won, best_value=0.84, defaults_value=0.838)
    run_n, _, kept = retrain_best(lookbook, near, cache=cache, progress=False, say=lines.append)
    assert run_n == run0 and kept is not None and kept.same_config
    assert kept.validation_best == 1 and kept.best_trial == 0
    assert "within one standard error" in kept.rule and kept.rule in lines
    assert kept.lines()[0] == kept.rule
    assert kept.lines()[1].startswith("the default configuration (trial 0) was kept over trial 1")
    assert json.loads((out / "retrain.json").read_text())["rule"] == kept.rule


def test_the_one_standard_error_rule_keeps_the_defaults_only_within_noise() -> None:
    from types import SimpleNamespace

    from stylecast.tuning.retrain import within_noise

    def result(best: float, base: float, **kw: object) -> SimpleNamespace:
        fields = dict(
            metric="val_accuracy",
            best_value=best,
            best_number=8,
            defaults_value=base,
            defaults_number=0,
            defaults_config=object(),
        )
        return SimpleNamespace(**(fields | kw))

    # fpi-season's study: 0.8399 against 0.8380 on 537 images, SE 0.0158: noise.
    rule = within_noise(result(0.8399, 0.8380), 537)
    assert "trial 8 is best on validation (0.8399)" in rule and "(0.0158 on 537 images)" in rule
    assert within_noise(result(0.8600, 0.8380), 537) == ""  # 2.2 points: beyond one SE
    assert within_noise(result(0.8399, 0.8380), 100_000) == ""  # a huge split: SE 0.0012
    assert within_noise(result(0.84, 0.84, best_number=0), 537) == ""  # the defaults won
    assert within_noise(result(0.3, 0.31, metric="val_loss"), 537) == ""
    assert within_noise(result(0.84, 0.83, defaults_value=None), 537) == ""  # no baseline


@pytest.mark.usefixtures("quick_evaluate")
def test_the_best_configuration_is_retrained_as_an_ensemble(
    lookbook: Path, tmp_path: Path, tuning_cache: ImageCache
) -> None:
    from stylecast.errors import ConfigError
    from stylecast.run import RunFolder
    from stylecast.tuning.study import tune

    base = dataclasses.replace(base_config(), ensemble=2)
    with pytest.raises(ConfigError, match="add --retrain-best"):
        tune(lookbook, TuneConfig(trials=1, space="head"), base, tmp_path / "x", progress=False)
    out = tmp_path / "study"
    res = tune(
        lookbook,
        TuneConfig(trials=1, space="head", sampler_seed=0, retrain_best=True),
        base,
        out,
        progress=False,
        cache=tuning_cache,
    )
    # The trial was one model; the retrained best (the defaults here) is an ensemble of 2.
    assert res.defaults_config.ensemble == 1
    assert res.retrained_run == out / "best-trial-0-ensemble2"
    info = RunFolder(res.retrained_run).model_info()
    assert len(info.members) == 2
    assert res.test_metrics["ensemble"]["n_members"] == 2
    # Retrained on train + val: no validation split chooses the best member (member 0 is).
    assert all(r["val_accuracy"] is None for r in res.test_metrics["ensemble"]["members"])
    assert res.test_metrics["ensemble"]["best_member"] == 0
