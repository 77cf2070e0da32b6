"""Before the first trial: the study's split, and a study that pins what it measures."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import optuna
import pandas as pd
import pytest

from stylecast.config import TrainConfig, TuneConfig
from stylecast.data import ImageCache
from stylecast.errors import RunError
from stylecast.tuning.prepare import (
    STUDY_ATTR,
    StudyPins,
    StudySplit,
    compute_split,
    create_or_load,
    study_base_config,
)
from stylecast.tuning.space import resolve_space
from tests.tuning._study import base_config

URL = "postgresql+psycopg://me:secret@host/db"  # only named in messages (redacted)


def _pins(
    cfg: TuneConfig | None = None, base: TrainConfig | None = None, digest: str = "d1"
) -> StudyPins:
    cfg = cfg or TuneConfig(space="head")
    space, base = resolve_space(cfg.space, base or base_config(), fixed={"head_epochs"})
    return StudyPins.of(cfg, space, base, StudySplit("path,label,split\n", digest, True))


def test_pins_leave_machine_settings_out() -> None:
    pins = _pins(
        TuneConfig(metric="val_loss", space="head"), base_config(device="cpu", num_threads=2)
    )
    assert pins.metric == "val_loss" and pins.direction == "minimize" and pins.split == "d1"
    assert "device" not in pins.base_config and "num_threads" not in pins.base_config
    assert pins.base_config["img_size"] == 32 and pins.base_config["mode"] == "head"
    assert set(pins.space) == {"balance"}  # all a head fit uses but the fixed head_epochs


def test_a_study_is_created_once_and_refuses_what_measures_otherwise() -> None:
    storage = optuna.storages.InMemoryStorage()
    study = create_or_load(storage, "s", URL, _pins())
    assert study.user_attrs[STUDY_ATTR + "metric"] == "val_accuracy"
    assert study.user_attrs[STUDY_ATTR + "split"] == "d1"
    # What a later command reads back: the fixed values, machine settings at their defaults.
    assert study_base_config(study) == dataclasses.replace(base_config(), mode="head")

    # The same pins (machine settings may differ) load the same study.
    again = create_or_load(storage, "s", URL, _pins(base=base_config(device="cpu")))
    assert again._study_id == study._study_id

    with pytest.raises(RunError, match="created to maximize val_accuracy; this command asks"):
        create_or_load(storage, "s", URL, _pins(TuneConfig(metric="val_loss", space="head")))
    with pytest.raises(RunError, match="another split of the data"):
        create_or_load(storage, "s", URL, _pins(digest="d2"))
    # The full preset searches the mode and the fine-tune space's ranges as well.
    with pytest.raises(
        RunError,
        match=r"another search space \(differs in batch_size, epochs, freeze_stages, head_lr, "
        r"label_smoothing, lr, mode, weight_decay\)",
    ):
        create_or_load(storage, "s", URL, _pins(TuneConfig(space="full")))
    with pytest.raises(
        RunError, match=r"other fixed training values: img_size \(study: 32, now: 64"
    ):
        create_or_load(storage, "s", URL, _pins(base=base_config(img_size=64)))
    with pytest.raises(RunError) as info:
        create_or_load(storage, "s", URL, _pins(digest="d3"))
    assert "me:***@host" in str(info.value) and "secret" not in str(info.value)


def test_the_split_is_a_run_folder_splits_csv_with_a_stable_digest(
    lookbook: Path, tmp_path: Path
) -> None:
    cache = ImageCache(tmp_path / "cache")
    split = compute_split(lookbook, base_config(), cache=cache, progress=False)
    table = pd.read_csv(io.StringIO(split.csv_text))
    assert list(table.columns[:3]) == ["path", "label", "split"]
    assert {"group", "brand", "period"} <= set(table.columns)
    assert set(table["split"]) == {"train", "val", "test"} and split.has_test
    assert not table["path"].str.startswith("/").any()  # relative to the data
    assert len(split.digest) == 16 and int(split.digest, 16) >= 0
    assert compute_split(lookbook, base_config(), cache=cache, progress=False) == split
    other = compute_split(lookbook, base_config(val_fraction=0.3), cache=cache, progress=False)
    assert other.digest != split.digest
    no_test = compute_split(lookbook, base_config(test_fraction=0.0), cache=cache, progress=False)
    assert not no_test.has_test


def test_the_defaults_are_queued_once_as_the_baseline_trial() -> None:
    from stylecast.tuning.prepare import enqueue_defaults
    from stylecast.tuning.space import default_params, suggest
    from stylecast.tuning.worker import DEFAULTS_ATTR

    space, base = resolve_space("default", TrainConfig(), fixed=())
    study = optuna.create_study(direction="maximize")
    assert "next trial trains the default configuration" in enqueue_defaults(study, space, base)
    # Queued again by a re-run (or another worker) before it ran: still one.
    assert (
        enqueue_defaults(study, space, base)
        == "trial 0 trains the default configuration (the baseline)"
    )
    trial = study.ask()
    assert trial.number == 0 and trial.user_attrs[DEFAULTS_ATTR] is True
    assert suggest(trial, space, base) == default_params(space, base)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    # Only a failed baseline is queued again; a finished one never.
    assert "next trial" in enqueue_defaults(study, space, base)
    again = study.ask()
    suggest(again, space, base)
    study.tell(again, 0.8)
    assert "trial 1 trains" in enqueue_defaults(study, space, base)
    assert len(study.trials) == 2 and study.trials[1].params == default_params(space, base)
    # Defaults a narrowed space cannot produce queue nothing, and say so.
    narrow = {**space, "lr": dataclasses.replace(space["lr"], low=2e-3)}
    assert "outside the search space (lr=0.001)" in enqueue_defaults(study, narrow, base)
    assert len(study.trials) == 2
