"""``train(..., TrainConfig(ensemble=N))``: N members on one split, in one run folder.

The run folder holds the ensemble's ``config.yaml`` from the start (so ``--resume`` knows
what it continues), then its members one after another, each an ordinary run trained by
:func:`~stylecast.training.train` in ``members/<k>/``: member 0 makes the split exactly as
a single run would (so it *is* the single model of the same seed), the others train on that
split. Once every member is trained, ``model.json`` lists them
(:func:`stylecast.ensemble.write_ensemble`). A killed ensemble resumes member by member:
finished members are kept, a half-trained one continues from its checkpoint.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from stylecast import __version__
from stylecast.config import TrainConfig, config_to_yaml, load_config
from stylecast.data import ImageCache
from stylecast.ensemble import (
    MemberSpec,
    copy_shared_files,
    member_config,
    variant_text,
    write_ensemble,
)
from stylecast.fileio import atomic_write_text
from stylecast.records import EpochRecord
from stylecast.run import RunFolder, RunInfo
from stylecast.training.context import Progress
from stylecast.training.distributed import join
from stylecast.training.result import TrainResult
from stylecast.training.targets import new_target, resume_target

__all__ = ["ensemble_size", "train_ensemble"]


def ensemble_size(cfg: TrainConfig | None, out: Any, *, resume: bool) -> int:
    """How many members the call trains: the config's, or (resume) the saved run's."""
    if resume and out is not None:
        saved = RunFolder(out).config_file
        if saved.is_file():
            with contextlib.suppress(Exception):  # the normal resume path reports it
                return load_config(TrainConfig, saved).ensemble
    return cfg.ensemble if cfg is not None else 1


def _member_result(folder: RunFolder) -> Any:
    """The TrainResult of a member trained earlier (read back from its folder)."""
    import pandas as pd

    info = folder.model_info()
    best = info.extra.get("best") or {}
    rows = (
        pd.read_csv(folder.metrics_file).to_dict("records") if folder.metrics_file.is_file() else []
    )
    history = tuple(EpochRecord.from_json(row) for row in rows)
    return TrainResult(
        run_dir=folder.path,
        classes=list(info.classes),
        mode=str(info.extra.get("mode", "")),
        best_epoch=int(best.get("epoch", 0)),
        best_phase=str(best.get("phase", "")),
        best_val_accuracy=float(best.get("val_accuracy", float("nan"))),
        best_val_loss=float(best.get("val_loss", float("nan"))),
        history=history,
        seconds=0.0,
    )


def _write_top(run: RunFolder, cfg: TrainConfig, source: Path) -> None:
    atomic_write_text(run.config_file, config_to_yaml(cfg))
    run.write_info(
        RunInfo(
            data=source,
            created=_dt.datetime.now().isoformat(timespec="seconds"),
            stylecast_version=__version__,
            command=" ".join(sys.argv) if sys.argv and sys.argv[0] else "",
            extra={"ensemble": cfg.ensemble},
        )
    )


def _after_first(run: RunFolder, first: RunFolder) -> None:
    """The ensemble's split and data files are its first member's; so is its data kind."""
    copy_shared_files(run, first)
    info, kind = run.info(), first.info().data_kind
    if info.data_kind != kind:
        run.write_info(replace(info, data_kind=kind))


def train_ensemble(
    train: Callable[..., TrainResult],
    data: Any,
    cfg: TrainConfig | None,
    out: Any,
    *,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Any = None,
    cache: Any = None,
    write_summary: bool = True,
    splits_csv: Any = None,
) -> Any:
    """Train (or continue) an ensemble run; returns its TrainResult (``members`` filled).

    ``train`` trains one member (:func:`stylecast.training.engine.train`, which passes
    itself; :func:`stylecast.training.engine.train_ensemble` is this with it)."""
    t0 = time.perf_counter()
    cache = cache or ImageCache()
    dist = join()
    say = Progress(progress and dist.is_main)

    def target() -> tuple[str, TrainConfig, str]:
        if resume:
            run_, cfg_, data_ = resume_target(out, cfg, data)
        else:
            run_, cfg_ = new_target(data, cfg, out)
            data_ = data
        return str(run_.path), cfg_, str(Path(data_).resolve())

    where, cfg, source = dist.on_main(target)
    run, n = RunFolder(where), cfg.ensemble
    created = not run.path.exists()
    with contextlib.ExitStack() as held:

        def open_run() -> None:
            held.enter_context(run.lock())
            if not resume:
                run.check_new()
                _write_top(run, cfg, Path(source))
            run.remove_stale_temporaries()

        dist.on_main(open_run)
        try:
            results = []
            for k in range(n):
                member, mcfg = run.member_folder(k), member_config(cfg, k)
                label = f"member {k + 1}/{n} (seed {mcfg.seed}"
                label += f", {variant_text(cfg, k)})" if variant_text(cfg, k) else ")"
                # Rank 0 alone reads the run folder (other machines of a job may not see it).
                state = dist.on_main(
                    lambda m=member: (
                        "trained" if m.is_trained() else ("resume" if m.holds_run() else "new")
                    )
                )
                if state == "trained":
                    say.line(f"{label}: trained already, kept")
                    results.append(dist.on_main(lambda m=member: _member_result(m)))
                elif state == "resume":
                    say.line(f"{label}: continuing {member.path}")
                    results.append(
                        train(
                            None,
                            None,
                            member.path,
                            resume=True,
                            progress=progress,
                            on_epoch=on_epoch,
                            cache=cache,
                        )
                    )
                else:
                    say.line(f"{label}: training into {member.path}")
                    results.append(
                        train(
                            source,
                            mcfg,
                            member.path,
                            progress=progress,
                            on_epoch=on_epoch,
                            cache=cache,
                            write_summary=write_summary and k == 0,
                            splits_csv=splits_csv if k == 0 else run.splits_file,
                        )
                    )
                if k == 0:
                    dist.on_main(lambda: _after_first(run, run.member_folder(0)))
            specs = [
                MemberSpec(run.member_folder(k), cfg.seed + k, variant_text(cfg, k))
                for k in range(n)
            ]
            build = dist.on_main(lambda: write_ensemble(run, specs, extra={"mode": cfg.mode}))
        except BaseException:
            # An ensemble none of whose members got a checkpoint leaves nothing behind.
            first = run.member_folder(0)
            if dist.is_main and created and not resume and not first.path.exists():
                shutil.rmtree(run.path, ignore_errors=True)
            raise
    accs = ", ".join(f"{r.best_val_accuracy:.3f}" for r in results)
    ens = build.val_accuracy
    say.line(
        f"ensemble of {n}: members' val_accuracy {accs}"
        + (f"; averaged {ens:.3f}" if ens is not None else "")
        + f"; model card written to {run.model_file}"
    )
    first = results[0]
    return TrainResult(
        run_dir=run.path,
        classes=first.classes,
        mode=first.mode,
        best_epoch=0,
        best_phase="ensemble",
        best_val_accuracy=float(ens if ens is not None else float("nan")),
        best_val_loss=float(build.val_loss if build.val_loss is not None else float("nan")),
        history=tuple(row.with_member(k) for k, r in enumerate(results) for row in r.history),
        seconds=time.perf_counter() - t0,
        skipped=first.skipped,
        members=tuple(results),
    )
