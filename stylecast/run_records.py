"""The typed records of a run folder's JSON files: :class:`Preprocessing` and
:class:`ModelInfo` (``model.json``: what the model expects; for an ensemble its
:class:`EnsembleMember` list) and :class:`RunInfo` (``run.json``: where the data came from);
:class:`EvaluationRecord` (``evaluation.json``) lives in :mod:`stylecast.records` and is
re-exported here.
:mod:`stylecast.run` re-exports them beside :class:`~stylecast.run.RunFolder`, which reads
and writes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from stylecast.errors import RunError
from stylecast.records import EvaluationRecord

__all__ = [
    "RUN_FORMAT",
    "EnsembleMember",
    "EvaluationRecord",
    "ModelInfo",
    "Preprocessing",
    "RunInfo",
]

# Bumped when the meaning of a file in the run folder changes.
RUN_FORMAT = 2
# The format of an ensemble's model.json (its members are run folders under members/): a
# version that knows only single models must not read it as one.
ENSEMBLE_FORMAT = 3


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes the model's input: letterboxed to a square, normalised.

    ``fill`` is the letterbox border (0-255 on every channel; white suits catalogue and
    lookbook photos); ``mean`` and ``std`` come from the backbone's pretrained config.
    """

    img_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: str = "letterbox"
    fill: int = 255

    def __post_init__(self) -> None:
        if not isinstance(self.img_size, int) or isinstance(self.img_size, bool):
            raise ValueError(f"img_size must be an integer, got {self.img_size!r}")
        if not 8 <= self.img_size <= 4096:
            raise ValueError(f"img_size must be between 8 and 4096, got {self.img_size}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) != 3 or not all(math.isfinite(float(v)) for v in values):
                raise ValueError(f"{name} must be three finite numbers, got {values!r}")
        if any(float(s) <= 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std!r}")
        if self.resize != "letterbox":
            raise ValueError(f"resize {self.resize!r} is not supported (letterbox only)")
        if not 0 <= int(self.fill) <= 255:
            raise ValueError(f"fill must be between 0 and 255, got {self.fill}")

    @property
    def fill_value(self) -> float:
        """The border colour after normalisation (what augmentation pads with)."""
        return (self.fill / 255.0 - self.mean[0]) / self.std[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "img_size": self.img_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": self.resize,
            "fill": self.fill,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Preprocessing:
        """Read the ``preprocessing`` object of ``model.json`` (ValueError when malformed)."""
        if not isinstance(obj, dict):
            raise ValueError(f"preprocessing must be an object, got {type(obj).__name__}")
        try:
            return cls(
                img_size=obj["img_size"],
                mean=tuple(float(v) for v in obj["mean"]),  # type: ignore[arg-type]
                std=tuple(float(v) for v in obj["std"]),  # type: ignore[arg-type]
                resize=str(obj.get("resize", "letterbox")),
                fill=int(obj.get("fill", 255)),  # runs before format 2 had no fill: white
            )
        except KeyError as exc:
            raise ValueError(f"preprocessing lacks {exc.args[0]!r}") from None
        except TypeError as exc:
            raise ValueError(f"preprocessing is malformed: {exc}") from None


@dataclass(frozen=True)
class EnsembleMember:
    """One member of an ensemble run: an ordinary run folder inside it (``members/<k>``).

    ``temperature`` is the member's own calibration, fitted when the ensemble is evaluated
    (its probabilities are divided by it before they are averaged); ``weights_digest`` is
    the digest of the member's ``model.safetensors`` when the ensemble was assembled, so a
    member swapped or damaged since is refused.
    """

    path: str  # relative to the ensemble's folder, e.g. "members/0"
    weights_digest: str
    temperature: float = 1.0
    seed: int | None = None
    variant: str = ""  # the member's recipe change ("" = the ensemble's own configuration)
    val_accuracy: float | None = None  # of the member's kept epoch, from its training

    def __post_init__(self) -> None:
        rel = PurePosixPath(self.path)
        if not self.path or rel.is_absolute() or ".." in rel.parts or "\\" in self.path:
            raise ValueError(f"member path {self.path!r} must be a folder inside the run")
        if not (math.isfinite(float(self.temperature)) and self.temperature > 0):
            raise ValueError(f"member {self.path}: temperature must be a positive number")

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "weights_digest": self.weights_digest,
            "temperature": self.temperature,
            "seed": self.seed,
            "variant": self.variant,
            "val_accuracy": self.val_accuracy,
        }

    @classmethod
    def from_json(cls, obj: Any) -> EnsembleMember:
        if not isinstance(obj, dict) or not isinstance(obj.get("path"), str):
            raise ValueError("every ensemble member must be an object with its 'path'")
        seed, val = obj.get("seed"), obj.get("val_accuracy")
        try:
            return cls(
                path=obj["path"],
                weights_digest=str(obj.get("weights_digest", "")),
                temperature=float(obj.get("temperature", 1.0)),
                seed=None if seed is None else int(seed),
                variant=str(obj.get("variant", "")),
                val_accuracy=None if val is None else float(val),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"ensemble member {obj.get('path')!r} is malformed: {exc}") from None


# How an ensemble combines its members (written into model.json for people reading it).
ENSEMBLE_COMBINE = "mean of the members' probabilities, each member calibrated by its temperature"


@dataclass(frozen=True)
class ModelInfo:
    """What ``model.json`` says: the architecture, its classes, preprocessing, calibration.

    ``extra`` keeps every other key of the file (best epoch, mode, versions, ...), so
    reading and writing it back loses nothing. An ensemble's file lists its ``members``
    (each an ordinary run folder inside the run); ``temperature`` is then the ensemble's
    own, applied to the averaged probabilities' logarithm.
    """

    name: str
    timm_name: str
    classes: tuple[str, ...]
    preprocessing: Preprocessing
    temperature: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    members: tuple[EnsembleMember, ...] = ()

    @property
    def is_ensemble(self) -> bool:
        return bool(self.members)

    def describe(self) -> str:
        """``efficientnet_lite0``, or ``ensemble of 3 x efficientnet_lite0``."""
        return f"ensemble of {len(self.members)} x {self.name}" if self.members else self.name

    def with_temperature(self, temperature: float) -> ModelInfo:
        return replace(self, temperature=float(temperature))

    def with_member_temperatures(self, temperatures: list[float]) -> ModelInfo:
        if len(temperatures) != len(self.members):
            raise ValueError(f"need {len(self.members)} member temperatures")
        members = tuple(
            replace(m, temperature=float(t)) for m, t in zip(self.members, temperatures)
        )
        return replace(self, members=members)

    def to_json(self) -> dict[str, Any]:
        out = {
            "format": ENSEMBLE_FORMAT if self.members else RUN_FORMAT,
            "name": self.name,
            "timm_name": self.timm_name,
            "classes": list(self.classes),
            "preprocessing": self.preprocessing.to_json(),
            "temperature": self.temperature,
            **{k: v for k, v in self.extra.items() if k not in _MODEL_KEYS},
        }
        if self.members:
            out["ensemble"] = {
                "combine": ENSEMBLE_COMBINE,
                "members": [m.to_json() for m in self.members],
            }
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str = "model.json") -> ModelInfo:
        """Validate ``obj`` (the parsed file); a bad value raises RunError naming ``where``."""
        fix = "train the run again, or restore the file the run wrote"
        if not isinstance(obj, dict):
            raise RunError(f"{where} must hold a JSON object, not {type(obj).__name__}; {fix}")
        missing = [k for k in ("timm_name", "classes", "preprocessing") if k not in obj]
        if missing:
            raise RunError(f"{where} lacks {', '.join(missing)}; {fix}")
        classes = obj["classes"]
        if (
            not isinstance(classes, list)
            or len(classes) < 2
            or not all(isinstance(c, str) and c for c in classes)
            or len(set(classes)) != len(classes)
        ):
            raise RunError(f"{where}: classes must be two or more distinct names; {fix}")
        try:
            prep = Preprocessing.from_json(obj["preprocessing"])
            temperature = float(obj.get("temperature", 1.0))
        except (ValueError, TypeError) as exc:
            raise RunError(f"{where}: {exc}; {fix}") from None
        if not (math.isfinite(temperature) and temperature > 0):
            raise RunError(f"{where}: temperature must be a positive number; {fix}")
        return cls(
            name=str(obj.get("name", obj["timm_name"])),
            timm_name=str(obj["timm_name"]),
            classes=tuple(classes),
            preprocessing=prep,
            temperature=temperature,
            extra={k: v for k, v in obj.items() if k not in _MODEL_KEYS},
            members=_members(obj.get("ensemble"), where, fix),
        )


def _members(block: Any, where: str, fix: str) -> tuple[EnsembleMember, ...]:
    """The ``ensemble`` object of model.json (absent for a single model)."""
    if block is None:
        return ()
    members = block.get("members") if isinstance(block, dict) else None
    if not isinstance(members, list) or len(members) < 2:
        raise RunError(f"{where}: an ensemble must list two or more members; {fix}")
    try:
        out = tuple(EnsembleMember.from_json(m) for m in members)
    except ValueError as exc:
        raise RunError(f"{where}: {exc}; {fix}") from None
    if len({m.path for m in out}) != len(out):
        raise RunError(f"{where}: an ensemble lists the same member twice; {fix}")
    return out


_MODEL_KEYS = (
    "format",
    "name",
    "timm_name",
    "classes",
    "preprocessing",
    "temperature",
    "ensemble",
)


@dataclass(frozen=True)
class RunInfo:
    """What ``run.json`` says: the data source and how the run was made."""

    data: Path
    data_kind: str = ""
    created: str = ""
    stylecast_version: str = ""
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "data": str(self.data),
            "data_kind": self.data_kind,
            "created": self.created,
            "stylecast_version": self.stylecast_version,
            "command": self.command,
            **self.extra,
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "run.json") -> RunInfo:
        if not isinstance(obj, dict) or not isinstance(obj.get("data"), str):
            raise RunError(f"{where} must be an object with the data source ('data')")
        known = ("data", "data_kind", "created", "stylecast_version", "command")
        return cls(
            data=Path(obj["data"]),
            data_kind=str(obj.get("data_kind", "")),
            created=str(obj.get("created", "")),
            stylecast_version=str(obj.get("stylecast_version", "")),
            command=str(obj.get("command", "")),
            extra={k: v for k, v in obj.items() if k not in known},
        )

    @property
    def image_root(self) -> Path:
        """The folder that ``splits.csv`` paths are relative to.

        A manifest's paths are relative to the manifest's folder; a folder source's to the
        folder itself. Decided by the name, so it holds after the source has moved.
        """
        manifest_like = self.data.suffix.lower() in (".csv", ".parquet")
        return self.data.parent if (manifest_like or self.data.is_file()) else self.data
