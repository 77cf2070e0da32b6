"""Where a training run goes: a new run folder, or the run a ``--resume`` continues.

Both are decided before anything is trained, so bad input (no data, a folder holding
someone else's files, a resume with another configuration or other data, a finished run)
fails at once, with what to do next.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from stylecast.config import TrainConfig, diff_configs, load_config
from stylecast.errors import DataError, RunError
from stylecast.run import RunFolder

__all__ = ["default_run_dir", "new_target", "resume_target"]


def default_run_dir(data: str | os.PathLike[str]) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{Path(data).resolve().name}-{stamp}"


def new_target(
    data: str | os.PathLike[str] | None,
    cfg: TrainConfig | None,
    out: str | os.PathLike[str] | None,
) -> tuple[RunFolder, TrainConfig]:
    if data is None:
        raise DataError("no data given: pass an image folder or manifest")
    run = RunFolder(out if out is not None else default_run_dir(data))
    run.check_new()
    return run, cfg or TrainConfig()


def resume_target(
    out: str | os.PathLike[str] | None, cfg: TrainConfig | None, data: Any
) -> tuple[RunFolder, TrainConfig, Path]:
    if out is None:
        raise RunError("--resume needs the run folder to continue")
    run = RunFolder(out)
    if not run.config_file.is_file() or not run.info_file.is_file():
        raise RunError(f"{run.path} is not a stylecast run folder (no {run.CONFIG}/{run.INFO})")
    saved = load_config(TrainConfig, run.config_file)
    if cfg is not None:
        differ = diff_configs(saved, cfg)
        if differ:
            pairs = ", ".join(
                f"{k} (run: {getattr(saved, k)!r}, now: {getattr(cfg, k)!r})" for k in differ
            )
            raise RunError(f"cannot resume {run.path} with a different config: {pairs}")
    info = run.info()
    if data is not None and Path(data).resolve() != info.data:
        raise RunError(f"cannot resume {run.path} on other data: it was trained on {info.data}")
    if run.is_trained():
        raise RunError(
            f"{run.path} is already complete; nothing to resume (`stylecast evaluate "
            f"{run.path}` scores it again, `stylecast report {run.path}` rebuilds its report)"
        )
    return run, saved, info.data
