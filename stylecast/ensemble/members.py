"""An ensemble's members: loaded, checked against each other and against ``model.json``.

Members are ordinary run folders inside the ensemble's (``members/<k>/``). Before an
ensemble is used every member must be there, trained, unchanged since the ensemble was
assembled (the digest of its weights), and see the same classes through the same
preprocessing: a missing, damaged or mismatched member is one clear :class:`RunError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from torch import nn

from stylecast.data import file_digest
from stylecast.ensemble.module import Ensemble
from stylecast.errors import RunError
from stylecast.run import EnsembleMember, ModelInfo, RunFolder

__all__ = [
    "check_compatible",
    "ensemble_digest",
    "load_ensemble",
    "load_members",
    "member_info",
    "weights_digest",
]


def weights_digest(folder: RunFolder) -> str:
    """The content digest of a single-model run's ``model.safetensors``."""
    return file_digest(folder.weights_file)


def ensemble_digest(info: ModelInfo) -> str:
    """One digest of an ensemble's members' weights (what an ONNX export is checked against)."""
    h = hashlib.blake2b(digest_size=16)
    for m in info.members:
        h.update(f"{m.path}\0{m.weights_digest}\n".encode())
    return h.hexdigest()


def _fix(run: Path) -> str:
    return (
        f"restore the member, or train the ensemble again (`stylecast train --resume {run}` "
        "continues one whose training was interrupted)"
    )


def member_info(run: RunFolder, member: EnsembleMember) -> tuple[RunFolder, ModelInfo]:
    """A member's folder and model.json, checked to be there and to be one trained model."""
    folder = RunFolder(run.path / member.path)
    where = f"{run.path}: ensemble member {member.path}"
    if not folder.path.is_dir():
        raise RunError(f"{where} is missing; {_fix(run.path)}")
    if not folder.model_file.is_file() or not folder.weights_file.is_file():
        raise RunError(
            f"{where} holds no trained model ({folder.MODEL} + {folder.WEIGHTS}); {_fix(run.path)}"
        )
    try:
        info = folder.model_info()
    except RunError as exc:
        raise RunError(f"{where}: {exc}") from None
    if info.is_ensemble:
        raise RunError(f"{where} is itself an ensemble; members must be single models")
    return folder, info


def check_compatible(infos: Sequence[ModelInfo], names: Sequence[str]) -> None:
    """Members must share their classes (in order) and their preprocessing."""
    first, name0 = infos[0], names[0]
    for info, name in zip(infos[1:], names[1:], strict=True):
        if tuple(info.classes) != tuple(first.classes):
            raise RunError(
                f"ensemble members have different classes: {name0} has "
                f"{', '.join(first.classes)}, {name} has {', '.join(info.classes)}; an "
                "ensemble averages one probability per class, so its members must share them"
            )
        a, b = first.preprocessing, info.preprocessing
        if a.img_size != b.img_size:
            raise RunError(
                f"ensemble members have different image sizes: {name0} takes {a.img_size} px, "
                f"{name} {b.img_size} px; train the members at one --img-size"
            )
        if a != b:
            raise RunError(
                f"ensemble members prepare images differently ({name0}: {a.to_json()}, "
                f"{name}: {b.to_json()}); members must share one preprocessing"
            )


Loader = Callable[[Path], tuple[nn.Module, ModelInfo]]


def load_members(
    run: RunFolder, info: ModelInfo, load_model: Loader
) -> tuple[list[nn.Module], list[ModelInfo]]:
    """Every member's network and model.json, checked (RunError naming the member).

    ``load_model`` loads one member's folder (:func:`stylecast.models.load_model`, which
    passes itself: the ensemble knows nothing of how a single network is built)."""
    models, infos = [], []
    for m in info.members:
        folder, minfo = member_info(run, m)
        if m.weights_digest and weights_digest(folder) != m.weights_digest:
            raise RunError(
                f"{run.path}: the weights of ensemble member {m.path} changed since the "
                f"ensemble was assembled (damaged or replaced); {_fix(run.path)}"
            )
        try:
            model, minfo = load_model(folder.path)
        except RunError as exc:
            raise RunError(f"{run.path}: ensemble member {m.path}: {exc}") from None
        models.append(model)
        infos.append(minfo)
    check_compatible([info, *infos], ["the ensemble", *[m.path for m in info.members]])
    return models, infos


def load_ensemble(run: RunFolder, info: ModelInfo, load_model: Loader) -> nn.Module:
    """The ensemble as one network (:class:`~stylecast.ensemble.Ensemble`), in eval mode;
    ``member_infos`` holds each member's model.json (``load_model``: see load_members)."""
    models, infos = load_members(run, info, load_model)
    ens = Ensemble(models, [m.temperature for m in info.members])
    ens.member_infos = infos  # type: ignore[assignment]
    return ens.eval()
