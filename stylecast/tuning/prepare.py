"""Before the first trial: the study's one split, the study itself, the shared features.

A study pins what it measures (metric, direction, search space, fixed training values and
a digest of the split) in its user attributes; a re-run or another worker that would
measure something else is refused with the difference named, so a study never mixes
trial values that are not comparable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig, TuneConfig, config_to_dict
from stylecast.data import ImageCache
from stylecast.errors import DataError, RunError
from stylecast.tuning.space import (
    ParamSpec,
    default_params,
    outside_space,
    space_modes,
    space_to_json,
)
from stylecast.tuning.spec import DEFAULTS_ATTR
from stylecast.tuning.storage import redact

__all__ = [
    "STUDY_ATTR",
    "StudyPins",
    "StudySplit",
    "compute_split",
    "create_or_load",
    "enqueue_defaults",
    "study_base_config",
    "warm_feature_cache",
]

# Prefix of the study user attributes that pin what a study measures.
STUDY_ATTR = "stylecast:"
# Machine settings may differ between the machines of one study.
MACHINE_KEYS = ("device", "num_threads", "precision", "compile")


@dataclass(frozen=True)
class StudySplit:
    """The one split every trial of a study uses."""

    csv_text: str  # splits.csv as a run folder holds it (path, label, split, manifest columns)
    digest: str  # of every image's (path, split): what the study pins
    has_test: bool


@dataclass(frozen=True)
class StudyPins:
    """What a study measures; a re-run or another worker must match every value."""

    metric: str
    direction: str
    space: dict[str, Any]  # space_to_json of the search space
    base_config: dict[str, Any]  # the fixed training values, machine settings left out
    split: str  # StudySplit.digest

    @classmethod
    def of(
        cls, cfg: TuneConfig, space: dict[str, ParamSpec], base: TrainConfig, split: StudySplit
    ) -> StudyPins:
        """The pins of a study of ``cfg`` over ``space`` with ``base`` fixed, on ``split``."""
        comparable = {k: v for k, v in config_to_dict(base).items() if k not in MACHINE_KEYS}
        return cls(cfg.metric, cfg.direction, space_to_json(space), comparable, split.digest)


def compute_split(data: Any, base: TrainConfig, *, cache: ImageCache, progress: bool) -> StudySplit:
    """The study's split; every trial uses exactly it."""
    from stylecast.data import prepare_run_data

    rd = prepare_run_data(data, base, cache=cache, progress=progress)
    if len(rd.indices("val")) == 0:
        raise DataError(
            f"{data} has no validation images after splitting; tuning scores trials on "
            "them: raise --val-fraction, or add a val/ folder to a pre-split dataset"
        )
    splits = rd.table.drop(columns=["path"]).rename(columns={"relpath": "path"})
    cols = ["path", "label", "split"] + [
        c for c in splits.columns if c not in ("path", "label", "split")
    ]
    h = hashlib.sha256()
    for p, s in sorted(zip(splits["path"], splits["split"], strict=True)):
        h.update(f"{p}\t{s}\n".encode())
    has_test = bool((splits["split"] == "test").any())
    return StudySplit(splits[cols].to_csv(index=False), h.hexdigest()[:16], has_test)


def create_or_load(storage: Any, name: str, url: str, pins: StudyPins) -> Any:
    """Create the study, or load it and refuse to mix in trials that measure something else."""
    import optuna

    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=pins.direction, load_if_exists=True
        )
    except Exception as exc:  # noqa: BLE001 - storage errors surface here too
        raise RunError(f"cannot create or load study {name!r} in {redact(url)}: {exc}") from None
    where = f"study {name!r} in {redact(url)}"
    hint = "use a new --study-name (or --out) for a different study"
    if len(study.directions) != 1:
        raise RunError(f"{where} is a multi-objective study; {hint}")
    have = study.direction.name.lower()
    attrs = study.user_attrs
    metric = attrs.get(STUDY_ATTR + "metric")
    if have != pins.direction or (metric is not None and metric != pins.metric):
        raise RunError(
            f"{where} was created to {have} {metric or 'another objective'}; this command "
            f"asks to {pins.direction} {pins.metric}. Use --metric {metric or '...'} to "
            f"continue it, or {hint}"
        )
    if metric is None:
        for k, v in dataclasses.asdict(pins).items():
            study.set_user_attr(STUDY_ATTR + k, v)
        return study
    if attrs.get(STUDY_ATTR + "split") != pins.split:
        raise RunError(
            f"{where} was run on another split of the data (other images, or other "
            f"--val-fraction/--test-fraction/--group-column/--seed); {hint}"
        )
    saved_space = attrs.get(STUDY_ATTR + "space") or {}
    if saved_space != pins.space:
        changed = sorted(
            k for k in set(saved_space) | set(pins.space) if saved_space.get(k) != pins.space.get(k)
        )
        raise RunError(
            f"{where} was run with another search space (differs in {', '.join(changed)}); "
            f"pass the study's --space, or {hint}"
        )
    saved_base = attrs.get(STUDY_ATTR + "base_config", {})
    differ = [k for k, v in pins.base_config.items() if saved_base.get(k, v) != v]
    if differ:
        pairs = ", ".join(
            f"{k} (study: {saved_base[k]!r}, now: {pins.base_config[k]!r})" for k in differ
        )
        raise RunError(f"{where} was run with other fixed training values: {pairs}; {hint}")
    return study


def study_base_config(study: Any) -> TrainConfig:
    """The fixed training values the study pinned (machine settings at their defaults)."""
    saved = study.user_attrs.get(STUDY_ATTR + "base_config", {})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in saved.items() if k in known})


def warm_feature_cache(
    data: Any,
    base: TrainConfig,
    space: dict[str, ParamSpec],
    *,
    splits_csv: Path,
    cache: ImageCache,
    say: Callable[[str], None],
) -> bool:
    """Compute the frozen backbone's features once, before any trial (True if it did).

    A one-epoch head run on the study's split goes through exactly the code path (and
    cache keys) the trials use, so workers starting together do not all compute them.
    """
    modes = space_modes(space, base)
    feature_keys = {"model", "weights", "pretrained", "img_size", "augment", "feature_views"}
    if modes == {"finetune"} or feature_keys & set(space):
        return False
    from stylecast.training import train

    t = time.perf_counter()
    say("preparing backbone features once for the whole study (cached for every trial)")
    warm = dataclasses.replace(base, mode="head", head_epochs=1, patience=0)
    with tempfile.TemporaryDirectory(prefix="stylecast-warm-") as tmp:
        train(
            data,
            warm,
            Path(tmp) / "run",
            # Quiet: its last line would name a throw-away temporary folder.
            progress=False,
            cache=cache,
            write_summary=False,
            splits_csv=splits_csv,
        )
    say(f"features ready in {time.perf_counter() - t:.1f}s")
    return True


def enqueue_defaults(study: Any, space: dict[str, ParamSpec], base: TrainConfig) -> str:
    """Queue a trial of the default configuration, unless the study has one; what happened.

    ``base`` is what ``stylecast train`` would train with the same flags; as the study's
    first trial it makes the best validation score at least the defaults'. A re-run (or
    another worker) does not queue it again; only if every such trial failed.
    """
    params = default_params(space, base)
    outside = outside_space(space, params)
    if outside:
        return (
            f"the default configuration lies outside the search space ({', '.join(outside)}): "
            "no trial of it is queued, so the study has no baseline"
        )
    for t in study.trials:
        given = t.system_attrs.get("fixed_params") or t.params
        if t.state.name != "FAIL" and given == params:
            return f"trial {t.number} trains the default configuration (the baseline)"
    study.enqueue_trial(params, user_attrs={DEFAULTS_ATTR: True})
    return "the next trial trains the default configuration: the baseline to beat"
