"""Writing an ensemble's model card: ``model.json`` listing the members, ``metrics.csv``.

:func:`write_ensemble` turns trained member folders inside a run (``members/<k>/``) into an
ensemble: it checks that they fit together, records each member's weights digest, seed and
recipe variant, scores the averaged model once on the validation split (what the ensemble's
training says of it; the test split is left to ``stylecast evaluate``) and writes
``model.json`` last, so a run is an ensemble only once every member is there.

:func:`build_ensemble` (``stylecast ensemble RUN... --out E``) does the same for runs that
were trained separately on one split: they are copied into ``E/members/<k>/``.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stylecast import __version__
from stylecast.config import TrainConfig, config_to_yaml, diff_configs, load_config
from stylecast.data import ImageCache, prepare_images
from stylecast.ensemble.members import check_compatible, weights_digest
from stylecast.ensemble.module import Ensemble
from stylecast.errors import DataError, RunError
from stylecast.fileio import atomic_write_text
from stylecast.models import load_model
from stylecast.run import EnsembleMember, ModelInfo, RunFolder, RunInfo
from stylecast.training import predict_logits

__all__ = ["EnsembleBuild", "MemberSpec", "build_ensemble", "copy_shared_files", "write_ensemble"]

# The files of a member run an assembled ensemble keeps (what evaluate, report and resume read).
MEMBER_FILES = (
    RunFolder.CONFIG,
    RunFolder.INFO,
    RunFolder.SPLITS,
    RunFolder.METRICS,
    RunFolder.MODEL,
    RunFolder.WEIGHTS,
    RunFolder.SUMMARY,
    RunFolder.DATA_CHECK,
    RunFolder.SKIPPED,
)
# The files an ensemble takes from its first member: the split and what was found in the data.
SHARED_FILES = (RunFolder.SPLITS, RunFolder.DATA_CHECK, RunFolder.SKIPPED, RunFolder.SUMMARY)


@dataclass(frozen=True)
class MemberSpec:
    """A trained member folder inside the ensemble, its seed and its recipe change."""

    folder: RunFolder
    seed: int | None = None
    variant: str = ""


@dataclass(frozen=True)
class EnsembleBuild:
    """What :func:`write_ensemble` wrote."""

    info: ModelInfo
    val_accuracy: float | None  # the averaged members (temperature 1) on the validation split
    val_loss: float | None
    member_val_accuracy: list[float | None]


def _best(info: ModelInfo) -> dict[str, Any]:
    best = info.extra.get("best")
    return best if isinstance(best, dict) else {}


def _relative(run: RunFolder, member: RunFolder) -> str:
    try:
        return member.path.resolve().relative_to(run.path.resolve()).as_posix()
    except ValueError:
        raise RunError(f"ensemble member {member.path} is not inside {run.path}") from None


def _val_scores(run: RunFolder, model: Any, info: ModelInfo) -> tuple[float, float] | None:
    """The averaged members' validation accuracy and log loss (None without a val split)."""
    splits = run.splits()
    val = splits[splits["split"] == "val"]
    if val.empty:
        return None
    root = run.image_root()
    table = val.assign(path=[str(root / p) for p in val["path"]])
    prep = info.preprocessing
    try:
        prepared = prepare_images(
            table, prep.img_size, cache=ImageCache(), fill=prep.fill, progress=False
        )
    except DataError:
        return None  # the images moved: evaluate will say so
    logits = predict_logits(model, prepared.pixels, prep.mean, prep.std)
    classes = list(info.classes)
    y = np.array([classes.index(lbl) for lbl in prepared.table["label"]])
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return float((logits.argmax(1) == y).mean()), float(-logp[np.arange(len(y)), y].mean())


def _merged_metrics(members: Sequence[MemberSpec]) -> pd.DataFrame | None:
    frames = []
    for k, spec in enumerate(members):
        if spec.folder.metrics_file.is_file():
            df = pd.read_csv(spec.folder.metrics_file)
            df.insert(0, "member", k)
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else None


def write_ensemble(
    run: RunFolder, members: Sequence[MemberSpec], *, extra: dict[str, Any] | None = None
) -> EnsembleBuild:
    """Check the trained ``members`` (folders inside ``run``), write ``metrics.csv`` and
    ``model.json`` of the ensemble, and return what was recorded."""
    if len(members) < 2:
        raise RunError("an ensemble needs at least two members")
    models, infos, records = [], [], []
    for spec in members:
        model, info = load_model(spec.folder.path)
        if info.is_ensemble:
            raise RunError(f"{spec.folder.path} is itself an ensemble; members are single models")
        models.append(model)
        infos.append(info)
        records.append(
            EnsembleMember(
                path=_relative(run, spec.folder),
                weights_digest=weights_digest(spec.folder),
                seed=spec.seed,
                variant=spec.variant,
                val_accuracy=_best(info).get("val_accuracy"),
            )
        )
    check_compatible(infos, [str(s.folder.path) for s in members])
    first = infos[0]
    same_name = all(i.name == first.name for i in infos)
    info = ModelInfo(
        name=first.name if same_name else "+".join(sorted({i.name for i in infos})),
        timm_name=first.timm_name,
        classes=first.classes,
        preprocessing=first.preprocessing,
        temperature=1.0,
        extra={
            "mode": first.extra.get("mode"),
            "trained_on": first.extra.get("trained_on"),
            "stylecast_version": __version__,
            **(extra or {}),
        },
        members=tuple(records),
    )
    scores = _val_scores(run, Ensemble(models), info)
    if scores is not None:
        info.extra["ensemble_val_accuracy"], info.extra["ensemble_val_loss"] = scores
    metrics = _merged_metrics(members)
    if metrics is not None:
        atomic_write_text(run.metrics_file, metrics.to_csv(index=False))
    run.write_model_info(info)  # last: the run is an ensemble once this file is there
    return EnsembleBuild(
        info,
        None if scores is None else scores[0],
        None if scores is None else scores[1],
        [r.val_accuracy for r in records],
    )


def copy_shared_files(run: RunFolder, first: RunFolder) -> None:
    """An ensemble's split, data check and layer summary: its first member's."""
    for name in SHARED_FILES:
        src = first.path / name
        if src.is_file() and not (run.path / name).is_file():
            atomic_write_text(run.path / name, src.read_text(encoding="utf-8"))


def _split_key(folder: RunFolder) -> set[tuple[str, str, str]]:
    df = folder.splits()
    return set(zip(df["path"], df["label"], df["split"], strict=True))


def _check_runs(runs: Sequence[RunFolder]) -> list[ModelInfo]:
    infos = []
    for r in runs:
        r.require_dir()
        if not r.is_trained():
            raise RunError(f"{r.path} holds no finished training; only trained runs can be members")
        info = r.model_info()
        if info.is_ensemble:
            raise RunError(f"{r.path} is an ensemble; give the single runs it is made of")
        infos.append(info)
    check_compatible(infos, [str(r.path) for r in runs])
    first = _split_key(runs[0])
    for r in runs[1:]:
        if _split_key(r) != first:
            raise RunError(
                f"{r.path} was trained on another split than {runs[0].path}: an ensemble's "
                "members must share one split, or a member's training images would be tested "
                f"(train them with `--splits {runs[0].splits_file}`)"
            )
    return infos


def build_ensemble(
    runs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]
) -> EnsembleBuild:
    """An ensemble run in ``out`` from separately trained runs on one split (copied in)."""
    folders = [RunFolder(r) for r in runs]
    if len(folders) < 2:
        raise RunError("an ensemble needs at least two runs")
    if len({f.path.resolve() for f in folders}) != len(folders):
        raise RunError("the same run is given twice; an ensemble's members must differ")
    _check_runs(folders)
    configs = [load_config(TrainConfig, f.config_file) for f in folders]
    target = RunFolder(out)
    target.check_new()
    created = not target.path.exists()
    with target.lock():
        target.check_new()
        try:
            specs = []
            for k, (src, cfg) in enumerate(zip(folders, configs, strict=True)):
                dst = target.member_folder(k)
                dst.path.mkdir(parents=True)
                for name in MEMBER_FILES:
                    if (src.path / name).is_file():
                        shutil.copy2(src.path / name, dst.path / name)
                changed = diff_configs(configs[0], cfg, ignore=("seed",))
                variant = ", ".join(f"{key}={getattr(cfg, key)}" for key in changed)
                specs.append(MemberSpec(dst, cfg.seed, variant))
            base = configs[0]
            atomic_write_text(target.config_file, config_to_yaml(_with_size(base, len(specs))))
            source = folders[0].info()
            target.write_info(
                RunInfo(
                    data=source.data,
                    data_kind=source.data_kind,
                    created=_dt.datetime.now().isoformat(timespec="seconds"),
                    stylecast_version=source.stylecast_version,
                    command=" ".join(sys.argv) if sys.argv and sys.argv[0] else "",
                    extra={"assembled_from": [str(f.path.resolve()) for f in folders]},
                )
            )
            copy_shared_files(target, specs[0].folder)
            return write_ensemble(target, specs)
        except BaseException:
            if created:
                shutil.rmtree(target.path, ignore_errors=True)
            raise


def _with_size(cfg: Any, n: int) -> Any:
    import dataclasses

    return dataclasses.replace(cfg, ensemble=n)
