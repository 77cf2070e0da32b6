"""The run folder contract: every file of a run, and the typed objects read from them.

A run is a folder; everything a later stage needs is in it, and this module is the one
place that knows its file names::

    config.yaml  run.json  splits.csv  metrics.csv  model.safetensors  model.json
    checkpoint/  evaluation.json  predictions.csv  report.html  ...

An ensemble run holds no ``model.safetensors`` of its own: its ``model.json`` lists its
members, each an ordinary run folder under ``members/<k>/``.

Stages pass :class:`RunFolder` (where things are) and :class:`Preprocessing` /
:class:`ModelInfo` (what the model expects) to each other; dicts stay inside the JSON
files. Run folders written by earlier versions still load: missing keys take the value
those versions used (``fill`` 255, ``temperature`` 1).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stylecast.errors import RunError
from stylecast.fileio import atomic_write_json, read_json
from stylecast.run_records import RUN_FORMAT, EnsembleMember, ModelInfo, Preprocessing, RunInfo

__all__ = ["RUN_FORMAT", "EnsembleMember", "ModelInfo", "Preprocessing", "RunFolder", "RunInfo"]


class RunFolder:
    """A run folder and the name of every file in it.

    Reading helpers raise :class:`RunError` with what to do next; writers are atomic.
    """

    CONFIG = "config.yaml"
    INFO = "run.json"
    SPLITS = "splits.csv"
    METRICS = "metrics.csv"
    WEIGHTS = "model.safetensors"
    MODEL = "model.json"
    SUMMARY = "model_summary.txt"
    CHECKPOINTS = "checkpoint"
    EVALUATION = "evaluation.json"
    PREDICTIONS = "predictions.csv"
    GALLERIES = "galleries.json"
    REPORT = "report.html"
    SKIPPED = "skipped.json"
    DATA_CHECK = "data_check.json"
    TENSORBOARD = "tensorboard"  # TensorBoard logs, when tensorboard is installed
    EXPLAIN = "explain"  # `stylecast explain` figures
    TUNING = "tuning"  # a retrained best trial: what the report shows of its study
    # Files of a study folder, copied into a retrained run's tuning/ folder.
    TRIALS = "trials.csv"
    BEST_CONFIG = "best.yaml"
    STUDY = "study.json"
    HISTORY_FIGURE = "optimization_history.png"
    IMPORTANCES_FIGURE = "param_importances.png"
    EVALUATIONS = "evaluations"  # scores of other data, one folder each
    SHIFT = "shift.json"  # the shift check of other data (in its evaluations/<name>/ folder)
    SHIFT_REFERENCE = "shift_reference.npz"  # training images' features for the shift check
    FAMILIARITY = "familiarity_reference.npz"  # held-out features for serve's unusual-photo flag
    # `stylecast export`: the ONNX model (uint8 NHWC letterboxed pixels in, logits out), its
    # int8 twin (kept aside under the rejected name when it loses accuracy), and what was checked.
    ONNX = "model.onnx"
    ONNX_INT8 = "model.int8.onnx"
    ONNX_INT8_REJECTED = "model.int8.rejected.onnx"
    EXPORT = "export.json"
    LOCK = ".stylecast.lock"  # held by the one process that writes the run
    # `stylecast palette`: colours per image, per group, and one swatch figure per grouping.
    PALETTES = "palettes.csv"
    PALETTE_SUMMARY = "palette_summary.json"
    PALETTE_FIGURE = "palette_{column}.png"  # {column}: the grouping column, made file-safe
    # An ensemble: its members are ordinary run folders in members/<k>/ (model.json lists them).
    MEMBERS = "members"
    ENSEMBLE_FIGURE = "ensemble_members.png"  # the report's members-vs-ensemble figure
    # `stylecast distill`: the teacher, the settings and the teacher's soft labels.
    DISTILL = "distill.json"
    DISTILL_TARGETS = "distill_targets.npz"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # -- files -----------------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.path / self.CONFIG

    @property
    def info_file(self) -> Path:
        return self.path / self.INFO

    @property
    def splits_file(self) -> Path:
        return self.path / self.SPLITS

    @property
    def metrics_file(self) -> Path:
        return self.path / self.METRICS

    @property
    def weights_file(self) -> Path:
        return self.path / self.WEIGHTS

    @property
    def model_file(self) -> Path:
        return self.path / self.MODEL

    @property
    def summary_file(self) -> Path:
        return self.path / self.SUMMARY

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / self.CHECKPOINTS

    @property
    def last_checkpoint(self) -> Path:
        """The checkpoint a resume starts from (absent once the run has finished)."""
        return self.checkpoint_dir / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        """The weights of the best epoch so far."""
        return self.checkpoint_dir / "best.pt"

    @property
    def tuning_dir(self) -> Path:
        return self.path / self.TUNING

    @property
    def evaluation_file(self) -> Path:
        return self.path / self.EVALUATION

    @property
    def predictions_file(self) -> Path:
        return self.path / self.PREDICTIONS

    @property
    def galleries_file(self) -> Path:
        return self.path / self.GALLERIES

    @property
    def report_file(self) -> Path:
        return self.path / self.REPORT

    @property
    def skipped_file(self) -> Path:
        return self.path / self.SKIPPED

    @property
    def data_check_file(self) -> Path:
        return self.path / self.DATA_CHECK

    @property
    def palettes_file(self) -> Path:
        return self.path / self.PALETTES

    @property
    def palette_summary_file(self) -> Path:
        return self.path / self.PALETTE_SUMMARY

    def palette_figure(self, column: str) -> Path:
        """The swatch figure of the palettes grouped by ``column``."""
        import re

        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", column).strip("._") or "column"
        return self.path / self.PALETTE_FIGURE.format(column=safe)

    @property
    def shift_file(self) -> Path:
        return self.path / self.SHIFT

    @property
    def shift_reference_file(self) -> Path:
        return self.path / self.SHIFT_REFERENCE

    @property
    def familiarity_file(self) -> Path:
        return self.path / self.FAMILIARITY

    @property
    def onnx_file(self) -> Path:
        return self.path / self.ONNX

    @property
    def onnx_int8_file(self) -> Path:
        return self.path / self.ONNX_INT8

    @property
    def export_file(self) -> Path:
        return self.path / self.EXPORT

    def member_folder(self, k: int) -> RunFolder:
        """Where member ``k`` of an ensemble trained here lives (``members/<k>``)."""
        return RunFolder(self.path / self.MEMBERS / str(int(k)))

    @property
    def distill_file(self) -> Path:
        return self.path / self.DISTILL

    @property
    def distill_targets_file(self) -> Path:
        return self.path / self.DISTILL_TARGETS

    # -- state -----------------------------------------------------------------------
    def holds_run(self) -> bool:
        """Whether a run (finished or not) was started here."""
        return any((self.path / n).exists() for n in (self.MODEL, self.CHECKPOINTS, self.CONFIG))

    def check_new(self) -> None:
        """Refuse a target a new run would damage (a run never replaces files it did not make).

        A new run goes into a folder that does not exist yet, or is empty: never into a
        file, a folder holding another run, or a folder of someone else's files.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path} is a file; give a folder for the run")
        if self.holds_run():
            raise RunError(
                f"{self.path} already holds a run; choose another --out, or continue it with "
                "--resume"
            )
        if self.path.is_dir():
            others = sorted(p.name for p in self.path.iterdir() if p.name != self.LOCK)
            if others:
                shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
                raise RunError(
                    f"{self.path} is not empty ({shown}) and holds no stylecast run; choose a "
                    "new folder for --out (a run never writes over files it did not create)"
                )

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Create the folder and own it for the block: a second process gets a RunError.

        An advisory ``flock`` on ``.stylecast.lock``: the kernel drops it when the process
        dies, so a killed run never leaves its folder locked.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / self.LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(
                f"cannot create the run folder {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no flock, no lock
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    owner = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    raise RunError(
                        f"{self.path} is in use by another stylecast process (pid {owner}); "
                        "wait for it to finish, or choose another --out"
                    ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete half-written files a killed process left (``.NAME.*.tmp`` of atomic writes).

        Called by the process that holds :meth:`lock`, so no live writer owns them.
        """
        stale = [
            p
            for folder in (self.path, self.checkpoint_dir)
            if folder.is_dir()
            for p in folder.glob(".*.tmp")
            if p.is_file()
        ]
        for p in stale:
            p.unlink(missing_ok=True)
        return stale

    def is_trained(self) -> bool:
        """Training finished: the model is saved and no checkpoint waits for a resume."""
        return self.has_model() and not self.last_checkpoint.is_file()

    def writer_pid(self) -> str | None:
        """The pid of the live process holding :meth:`lock` (e.g. training), else None."""
        try:
            import fcntl

            fd = os.open(self.path / self.LOCK, os.O_RDONLY)
        except (ImportError, OSError):  # no lock file (or no flock): nobody holds it
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # released by the close below
            return None
        except BlockingIOError:
            return os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
        finally:
            os.close(fd)

    def require_finished(self) -> None:
        """RunError (one line) while a process trains the run, or a stopped one left a
        checkpoint for ``--resume``."""
        if self.is_trained():
            return
        pid = self.writer_pid()
        # An ensemble stopped between members keeps its checkpoint in a member's folder.
        saved = [self.last_checkpoint, *self.path.glob(f"{self.MEMBERS}/*/checkpoint/last.pt")]
        saved = [p.parent for p in saved if p.is_file()]
        where = f"a checkpoint is in {saved[0]}" if saved else "no checkpoint yet"
        resume = f"`stylecast train --resume {self.path}`"
        if pid is not None:
            raise RunError(
                f"{self.path} is still training (pid {pid}; {where}); use it once training "
                f"finishes (stopped, it continues with {resume})"
            )
        if saved:
            raise RunError(f"{self.path} has not finished training (stopped; {where}): {resume}")

    def external_evaluation(self, data: str | os.PathLike[str]) -> RunFolder:
        """Where scores of other ``data`` go: ``evaluations/<data name>/``, never over the
        run's own evaluation. The same data gets the same folder again; other data with
        the same name gets ``<name>-2``, ``-3``, ..."""
        import re

        source = Path(data).resolve()
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", source.stem if source.is_file() else source.name)
        base = base.strip("-.") or "data"
        root = self.path / self.EVALUATIONS
        for n in range(1, 1000):
            folder = RunFolder(root / (base if n == 1 else f"{base}-{n}"))
            if not folder.evaluation_file.is_file():
                return folder
            try:
                earlier = read_json(folder.evaluation_file).get("data")
            except (OSError, ValueError, AttributeError):
                earlier = None
            if earlier == str(source):
                return folder
        raise RunError(f"{root} holds too many evaluations named {base!r}; clear some out")

    def has_model(self) -> bool:
        """The run holds a trained model: its weights, or (an ensemble) a model.json that
        lists its members (whether they are all there is checked when they are loaded)."""
        if not self.model_file.is_file():
            return False
        return self.weights_file.is_file() or self.is_ensemble()

    def is_ensemble(self) -> bool:
        """``model.json`` describes an ensemble (False when it is absent or unreadable)."""
        try:
            obj = read_json(self.model_file)
        except (OSError, ValueError):
            return False
        return isinstance(obj, dict) and isinstance(obj.get("ensemble"), dict)

    def members(self) -> list[RunFolder]:
        """The member run folders an ensemble's ``model.json`` lists ([] for one model)."""
        return [RunFolder(self.path / m.path) for m in self.model_info().members]

    def require_dir(self) -> None:
        if not self.path.is_dir():
            raise RunError(f"run folder {self.path} does not exist")

    # -- typed reads -----------------------------------------------------------------
    def _json(self, path: Path) -> Any:
        try:
            return read_json(path)
        except FileNotFoundError:
            raise RunError(f"{path} is missing; is {self.path} a stylecast run?") from None
        except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
            raise RunError(f"{path} is unreadable ({exc}); restore it or train again") from None

    def info(self) -> RunInfo:
        """``run.json`` (RunError when this is not a run folder)."""
        if not self.info_file.is_file():
            raise RunError(f"{self.path} is not a stylecast run folder (no {self.INFO})")
        return RunInfo.from_json(self._json(self.info_file), str(self.info_file))

    def write_info(self, info: RunInfo) -> None:
        atomic_write_json(self.info_file, info.to_json())

    def model_info(self) -> ModelInfo:
        """``model.json``, validated."""
        self.require_dir()
        return ModelInfo.from_json(self._json(self.model_file), str(self.model_file))

    def write_model_info(self, info: ModelInfo) -> None:
        atomic_write_json(self.model_file, info.to_json())

    def image_root(self) -> Path:
        """Where the images named in ``splits.csv`` are (see :attr:`RunInfo.image_root`)."""
        return self.info().image_root

    def splits(self) -> Any:
        """``splits.csv`` as a DataFrame of strings (path, label, split, manifest columns)."""
        import pandas as pd

        if not self.splits_file.is_file():
            raise RunError(f"{self.path} is not a stylecast run folder (no {self.SPLITS})")
        try:
            return pd.read_csv(self.splits_file, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
            raise RunError(f"{self.splits_file} is unreadable ({exc})") from None

    def read_json_if_present(self, name: str) -> Any | None:
        """A JSON file of the run, or None when it is absent."""
        path = self.path / name
        return self._json(path) if path.is_file() else None
