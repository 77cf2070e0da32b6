"""The model behind the server: loaded once, then each request's images -> results (JSON).

:class:`ModelService` holds the run's :class:`~stylecast.inference.Predictor` (calibrated
probabilities; whichever backend the Predictor chooses) and answers, per image, the class
probabilities, the colour palette (:func:`stylecast.palette.extract_palette`) and, on
request, the Grad-CAM map as a PNG data URI. Grad-CAM hooks into a network, so it has its
own copy of the torch model (loaded on first use) behind a lock: the predictor's model may
serve other requests in other threads meanwhile.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from stylecast.errors import RunError
from stylecast.export.runtime import usable_cores
from stylecast.run import RunFolder
from stylecast.serve.card import build_card
from stylecast.serve.familiar import Familiarity, build_familiarity, feature_model
from stylecast.serve.images import Decoded, png_data_uri
from stylecast.serve.settings import ServeSettings

__all__ = ["ModelService", "ProbabilityModel", "model_threads"]


def model_threads(workers: int) -> int | None:
    """Threads for one model call when ``workers`` calls may run at once: the usable cores
    shared out among them (as Triton's instances share a machine), at least one each; None
    (every core) for a single worker."""
    if workers <= 1:
        return None
    return max(1, usable_cores() // workers)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class ProbabilityModel(Protocol):
    """What the server needs of a predictor (``stylecast.inference.Predictor`` is one)."""

    classes_: list[str]

    def predict_proba(self, images: Sequence[Any]) -> Any: ...


class ModelService:
    """A run's model, its card, and the per-image analysis of the API."""

    def __init__(
        self,
        run: str | os.PathLike[str],
        predictor: ProbabilityModel,
        settings: ServeSettings,
        say: Any = None,
    ) -> None:
        self.run = RunFolder(run)
        self.predictor = predictor
        self.settings = settings
        self.classes = [str(c) for c in predictor.classes_]
        backend = str(getattr(predictor, "backend", "") or "torch")
        self.card = build_card(self.run, settings, backend=backend)
        if self.card["classes"] != self.classes:
            raise RunError(
                f"the predictor's classes {self.classes} differ from {self.run.model_file}'s "
                f"{self.card['classes']}"
            )
        self.preprocessing = self.run.model_info().preprocessing
        # The out-of-domain signal: features from the batch's own forward pass, compared
        # with the run's held-out images' (computed once here; docs/serve.md).
        self.features = feature_model(predictor)
        self.familiarity: Familiarity = build_familiarity(
            self.run, predictor, self.features, say=say
        )
        self.card["familiarity"] = self.familiarity.card()
        self._cam_model: Any = None
        self._cam_lock = threading.Lock()

    @classmethod
    def load(
        cls, run: str | os.PathLike[str], settings: ServeSettings, say: Any = None
    ) -> ModelService:
        """Load ``run``'s model (RunError with what to do when the folder holds none)."""
        folder = RunFolder(run)
        folder.require_dir()
        if not folder.has_model():
            raise RunError(
                f"{folder.path} holds no trained model ({RunFolder.MODEL} and "
                f"{RunFolder.WEIGHTS}); give the folder of a trained run (`stylecast train DATA "
                "--out RUN` makes one)"
            )
        from stylecast.inference import Predictor  # torch: only once the run holds a model

        threads = model_threads(settings.workers)
        predictor = Predictor.from_run(run, settings.backend, settings.device, threads)
        return cls(run, predictor, settings, say=say or _stderr)

    # -- per request ----------------------------------------------------------------------
    def analyse(
        self, images: Sequence[Decoded], *, palette: bool = True, cam: bool = False
    ) -> list[dict[str, Any]]:
        """One result per image: probabilities, predicted class, palette, optional CAM
        (everything in this thread; a batching server runs the same pieces apart)."""
        rows = self.classify(self.prepare(images))
        palettes = [self.palette(d) for d in images] if palette else None
        cams = [self.cam(d, int(r[0].argmax())) for d, r in zip(images, rows)] if cam else None
        return self.results(images, rows, palettes, cams)

    def prepare(self, images: Sequence[Decoded]) -> list[Any]:
        """What the model takes of each image: letterboxed pixels when the predictor can
        start from them (so a batch is one stack of arrays), else the image itself."""
        if hasattr(self.predictor, "pixels") and hasattr(self.predictor, "proba_of_pixels"):
            return list(self.predictor.pixels([d.rgb for d in images]))
        return [d.rgb for d in images]

    def classify(self, items: Sequence[Any]) -> list[tuple[Any, Any, Any]]:
        """``(probabilities (C,), ensemble disagreement (2,) or None, familiarity or None)``
        per prepared image, in one forward pass (the features come with the logits)."""
        import numpy as np

        if self.familiarity.available and not isinstance(self.features, str):
            try:
                logits, feats = self.features(np.stack(items))
                from stylecast.evaluation import softmax

                proba = softmax(logits, self.predictor.temperature)
                if proba.shape == (len(items), len(self.classes)):
                    scores = self.familiarity.score(feats)
                    return [(p, None, f) for p, f in zip(proba, scores, strict=True)]
            except Exception:  # noqa: BLE001 - the signal never fails a request
                pass
        spread = None
        if hasattr(self.predictor, "proba_of_pixels"):
            proba, spread = self.predictor.proba_of_pixels(np.stack(items))
        elif hasattr(self.predictor, "predict_proba_members"):
            proba, spread = self.predictor.predict_proba_members(list(items))
        else:
            proba = self.predictor.predict_proba(list(items))
        proba = np.asarray(proba, dtype=float)
        if proba.shape != (len(items), len(self.classes)):
            raise RuntimeError(f"the predictor returned shape {proba.shape}")
        return [(p, None if spread is None else spread[i], None) for i, p in enumerate(proba)]

    def results(
        self,
        images: Sequence[Decoded],
        rows: Sequence[tuple[Any, Any, Any]],
        palettes: Sequence[list[dict[str, Any]]] | None = None,
        cams: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The API's answer per image from :meth:`classify`'s rows and the extras."""
        results = []
        for i, (d, (p, spread, fam)) in enumerate(zip(images, rows, strict=True)):
            best = int(p.argmax())
            result: dict[str, Any] = {
                "filename": d.filename,
                "format": d.header.format,
                "width": d.header.width,
                "height": d.header.height,
                "predicted": self.classes[best],
                "confidence": round(float(p[best]), 6),
                "probabilities": {c: round(float(x), 6) for c, x in zip(self.classes, p)},
            }
            # Out of domain: far from the run's own photos (None: no signal, see the card).
            result["unusual"] = None if fam is None else fam["unusual"]
            result["familiarity"] = (
                None if fam is None else {k: v for k, v in fam.items() if k != "unusual"}
            )
            if spread is not None:
                # An ensemble: how far its members are from agreeing on this image.
                result["disagreement"] = round(float(spread[0]), 4)
                result["member_std"] = round(float(spread[1]), 6)
            if palettes is not None:
                result["palette"] = palettes[i]
            if cams is not None:
                result["cam"] = cams[i]
                result["cam_class"] = self.classes[best]
            results.append(result)
        return results

    @staticmethod
    def palette(image: Decoded) -> list[dict[str, Any]]:
        """The garment's colours, largest share first (see docs/palette.md)."""
        from stylecast.palette import Pixels, extract_palette

        pal = extract_palette(Pixels(image.palette_rgb, image.opaque))
        return [
            {
                "hex": c.hex,
                "name": c.name.name,
                "common": c.name.common,
                "family": c.name.family,
                "neutral": bool(c.name.neutral),
                "share": round(float(c.share), 4),
            }
            for c in pal.colours
        ]

    def _torch_model(self) -> Any:
        if self._cam_model is None:
            from stylecast.models import load_model
            from stylecast.training import resolve_device

            model, _ = load_model(self.run.path)
            self._cam_model = model.to(resolve_device(self.settings.device))
        return self._cam_model

    def cam(self, image: Decoded, target: int) -> str:
        """Grad-CAM of ``target`` over the image, letterboxed, as a PNG data URI."""
        from stylecast.data import letterbox
        from stylecast.evaluation import gradcam_for_pixels, upsample_cam
        from stylecast.plots import overlay_heatmap

        prep = self.preprocessing
        pixels = letterbox(image.rgb, prep.img_size, prep.fill)[None]
        with self._cam_lock:  # hooks on one network: one Grad-CAM at a time
            cams, _ = gradcam_for_pixels(self._torch_model(), pixels, prep, [target])
        size = self.settings.cam_size
        display = letterbox(image.rgb, size, prep.fill)
        return png_data_uri(overlay_heatmap(display, upsample_cam(cams[0], size)))
