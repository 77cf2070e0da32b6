"""Predict stage: a trained run folder -> calibrated season probabilities for new images.

Only the run folder is needed: ``model.json`` holds the architecture, classes,
preprocessing and the temperature fitted by ``evaluate``; weights are safetensors.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from stylecast.data import letterbox, load_image, printable_path
from stylecast.errors import DataError
from stylecast.evaluation import softmax
from stylecast.inference.sources import expand_image_paths
from stylecast.models import load_model
from stylecast.run import ModelInfo, RunFolder
from stylecast.training import predict_logits

__all__ = ["Predictor", "predict", "expand_image_paths"]

ImageLike = str | os.PathLike[str] | Image.Image | np.ndarray


class Predictor:
    """A loaded model with its preprocessing and calibration.

    ``onnx`` (an :class:`~stylecast.export.engine.OnnxEngine`) computes the logits when
    given; the torch ``model`` stays loaded for Grad-CAM.
    """

    def __init__(
        self, model: torch.nn.Module, info: ModelInfo, onnx: Any = None, device: Any = "cpu"
    ) -> None:
        self.device = torch.device(device)
        self.model = model.eval().to(self.device)
        self.info = info
        self.classes_ = list(info.classes)
        self.prep = info.preprocessing
        self.temperature = info.temperature
        self.onnx = onnx
        self.backend = onnx.describe() if onnx is not None else "torch"

    @classmethod
    def from_run(
        cls,
        run: str | os.PathLike[str],
        backend: str = "auto",
        device: str = "cpu",
        threads: int | None = None,
    ) -> Predictor:
        """The model of a trained run folder (RunError when it holds none).

        ``backend``: ``auto`` uses the run's ONNX export when one matches its weights (and
        ONNX Runtime is installed), ``torch``, ``onnx`` or ``onnx-int8`` insist. ``device``
        (``cpu``, ``cuda`` or ``auto``) is where torch runs the model (and Grad-CAM).
        ``threads``: ONNX Runtime's threads per call (default: one per usable core).
        """
        from stylecast.export.engine import onnx_engine
        from stylecast.training import resolve_device

        RunFolder(run).require_finished()  # a half-trained model answers nothing reliably
        model, info = load_model(run)
        return cls(model, info, onnx_engine(run, backend, threads), resolve_device(device))

    def pixels(self, images: Sequence[ImageLike]) -> np.ndarray:
        """The model's input: each image letterboxed to ``img_size``, ``(N, S, S, 3)`` uint8.

        Split from :meth:`proba_of_pixels` so that a server can prepare each request's images
        in its own thread and run the model once over many requests (stylecast.serve)."""
        size, fill = self.prep.img_size, self.prep.fill
        arrays = []
        for im in images:
            if isinstance(im, np.ndarray):
                if im.ndim != 3 or im.shape[2] != 3:
                    raise DataError(f"an image array must be HxWx3 uint8, got shape {im.shape}")
                im = Image.fromarray(im.astype(np.uint8))
            if not isinstance(im, Image.Image):
                im = load_image(im)
            arrays.append(letterbox(im.convert("RGB"), size, fill))
        return np.stack(arrays) if arrays else np.zeros((0, size, size, 3), np.uint8)

    def _member_logits(self, pixels: np.ndarray, batch_size: int) -> np.ndarray:
        """An ensemble's members' raw logits ``(N, M, C)``."""
        if self.onnx is not None:
            return self.onnx.runtime.member_logits(pixels, batch_size=batch_size)
        from stylecast.ensemble import MemberLogits

        net = MemberLogits(self.model)
        p = self.prep
        return predict_logits(net, pixels, p.mean, p.std, batch_size=batch_size, device=self.device)

    def scores(
        self, images: Sequence[ImageLike], batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(logits (N, C), member logits (N, M, C) or None)`` in one pass: an ensemble's
        logits are its members' combined at their temperatures."""
        return self.scores_of_pixels(self.pixels(list(images)), batch_size)

    def scores_of_pixels(
        self, pixels: np.ndarray, batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`scores` of images already through :meth:`pixels`."""
        c = len(self.classes_)
        if self.info.is_ensemble:
            from stylecast.ensemble import combine_logits

            members = (
                self._member_logits(pixels, batch_size)
                if len(pixels)
                else np.zeros((0, len(self.info.members), c), np.float32)
            )
            temps = [m.temperature for m in self.info.members]
            return combine_logits(members, temps), members
        if len(pixels) == 0:
            return np.zeros((0, c), np.float32), None
        if self.onnx is not None:
            return self.onnx.runtime.logits(pixels, batch_size=batch_size), None
        logits = predict_logits(
            self.model,
            pixels,
            self.prep.mean,
            self.prep.std,
            batch_size=batch_size,
            device=self.device,
        )
        return logits, None

    def logits(self, images: Sequence[ImageLike], batch_size: int = 64) -> np.ndarray:
        """Raw class scores, shape (N, C), before the temperature and the softmax."""
        return self.scores(images, batch_size)[0]

    def predict_proba(self, images: Sequence[ImageLike], batch_size: int = 64) -> np.ndarray:
        """Calibrated class probabilities, shape (N, C), columns in ``classes_`` order."""
        logits = self.logits(images, batch_size)
        if len(logits) == 0:
            return logits
        return softmax(logits, self.temperature)

    def predict_proba_members(
        self, images: Sequence[ImageLike], batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities ``(N, C)``, and an ensemble's members' disagreement
        ``(N, 2)``: the share of members whose top class is another, and the spread of their
        probability of the predicted class (None for one model)."""
        return self.proba_of_pixels(self.pixels(list(images)), batch_size)

    def proba_of_pixels(
        self, pixels: np.ndarray, batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_proba_members` of images already through :meth:`pixels`."""
        logits, members = self.scores_of_pixels(pixels, batch_size)
        proba = softmax(logits, self.temperature) if len(logits) else logits
        if members is None:
            return proba, None
        from stylecast.ensemble import member_disagreement

        temps = [m.temperature for m in self.info.members]
        share, spread = member_disagreement(members, temps, proba.argmax(1))
        return proba, np.stack([share, spread], axis=1)

    def predict(self, images: Sequence[ImageLike], batch_size: int = 64) -> list[str]:
        """The most probable class of each image."""
        proba = self.predict_proba(images, batch_size)
        return [self.classes_[i] for i in proba.argmax(1)]


def predict(
    run: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    batch_size: int = 64,
    backend: str = "auto",
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Predict every image under ``paths``; unreadable files are skipped and returned."""
    predictor = Predictor.from_run(run, backend)
    files = expand_image_paths(paths)
    if not files:
        raise DataError("no images to predict: give image files or folders holding images")
    good, skipped = [], []
    for f in files:
        if printable_path(f) != str(f):  # a name that is not UTF-8 cannot go into the table
            reason = "unreadable name: not valid UTF-8 (its bytes shown as \\xNN); rename it"
            skipped.append({"path": printable_path(f), "reason": reason})
            continue
        try:
            good.append((f, load_image(f)))
        except DataError as exc:
            skipped.append({"path": str(f), "reason": str(exc).split(": ", 1)[-1]})
    if not good:
        first = skipped[0]
        raise DataError(
            f"none of the {len(files)} image(s) could be read (first: {first['path']}: "
            f"{first['reason']})"
        )
    proba = predictor.predict_proba([im for _, im in good], batch_size)
    table = pd.DataFrame({"path": [str(f) for f, _ in good]})
    if len(good):
        table["predicted"] = [predictor.classes_[i] for i in proba.argmax(1)]
        table["confidence"] = proba.max(1).round(6)
        for j, c in enumerate(predictor.classes_):
            table[f"p_{c}"] = proba[:, j].round(6)
    return table, skipped
