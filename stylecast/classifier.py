"""A scikit-learn-style estimator: ``SeasonClassifier(...).fit(data).predict(images)``.

It is a scikit-learn estimator (``ClassifierMixin``, ``BaseEstimator``): ``is_classifier``
says so, and ``cross_val_score``, ``GridSearchCV`` and ``clone`` take it. ``__init__`` only
stores its parameters, ``get_params``/``set_params`` cover every TrainConfig key, ``fit``
returns ``self``, fitted attributes end in ``_`` and exist only after ``fit``, ``predict``
returns a numpy array and ``score`` is accuracy. Its inputs are images (paths, PIL images,
HxWx3 arrays), not a 2-D table of numbers, and its tags say so; scikit-learn's
``check_estimator`` checks on numeric tables do not apply, its API checks do (tests).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from stylecast.config import TrainConfig, load_config
from stylecast.errors import ConfigError, DataError, NotFittedError
from stylecast.evaluation import evaluate
from stylecast.fileio import atomic_write_text
from stylecast.inference import ImageLike, Predictor
from stylecast.run import RunFolder
from stylecast.training import train

__all__ = ["SeasonClassifier"]

_TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))
_OWN_KEYS = ("out", "progress")


class SeasonClassifier(ClassifierMixin, BaseEstimator):
    """Train and use a season classifier with the familiar ``fit``/``predict`` calls.

    Keyword arguments are :class:`~stylecast.config.TrainConfig` keys (an unknown key or a
    bad value is a ``ConfigError``), plus ``out`` (the run folder; by default a temporary
    folder removed with the estimator) and ``progress``.

    ``fit(X)`` takes an image folder or manifest; ``fit(X, y)`` takes image paths and their
    labels. ``predict``/``predict_proba``/``score`` take image paths (one path is one
    image), PIL images or HxWx3 uint8 arrays.

    >>> clf = SeasonClassifier(mode="head", img_size=128).fit("my-looks")  # doctest: +SKIP
    >>> clf.predict(["look.jpg"]), clf.classes_                            # doctest: +SKIP
    """

    def __init__(
        self, *, out: str | os.PathLike[str] | None = None, progress: bool = False, **params: Any
    ) -> None:
        load_config(TrainConfig, None, params)  # validate now: a typo fails at construction
        self.out = out
        self.progress = progress
        # Stored as given (not coerced), so sklearn.base.clone sees the very same objects.
        for key in _TRAIN_KEYS:
            setattr(self, key, params.get(key, _DEFAULTS[key]))

    # -- parameters ------------------------------------------------------------------
    @property
    def config(self) -> TrainConfig:
        """The training configuration these parameters make."""
        return load_config(TrainConfig, None, {k: getattr(self, k) for k in _TRAIN_KEYS})

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every constructor parameter (``deep`` is accepted; there are no sub-estimators)."""
        del deep
        return {k: getattr(self, k) for k in (*_OWN_KEYS, *_TRAIN_KEYS)}

    def set_params(self, **params: Any) -> SeasonClassifier:
        """Change parameters (validated together); returns ``self``, as scikit-learn expects."""
        unknown = sorted(set(params) - set(_TRAIN_KEYS) - set(_OWN_KEYS))
        if unknown:
            # load_config names the closest valid key.
            load_config(TrainConfig, None, {k: params[k] for k in unknown})
        merged = {k: getattr(self, k) for k in _TRAIN_KEYS} | {
            k: v for k, v in params.items() if k in _TRAIN_KEYS
        }
        load_config(TrainConfig, None, merged)
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """A classifier of images: not 2-D numeric arrays, and labels are class names."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True  # image paths
        tags.target_tags.required = True
        tags.non_deterministic = True  # training threads: not bit-identical run to run
        return tags

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 - BaseEstimator's name
        changed = {
            k: v for k, v in self.get_params().items() if k in _TRAIN_KEYS and v != _DEFAULTS[k]
        }
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        text = f"SeasonClassifier({args})"
        return text if len(text) <= N_CHAR_MAX else text[: N_CHAR_MAX - 4] + "...)"

    # -- fitting ---------------------------------------------------------------------
    def fit(
        self, X: str | os.PathLike[str] | Sequence[Any], y: Sequence[str] | None = None
    ) -> SeasonClassifier:
        """Train on ``X`` (a folder or manifest; or image paths with labels ``y``), evaluate
        (which calibrates the probabilities on the validation split), and load the model."""
        if self.out is not None:
            out = Path(self.out)
        else:
            # A temporary run folder lives as long as the estimator, then is removed.
            tmp = Path(tempfile.mkdtemp(prefix="stylecast-"))
            weakref.finalize(self, shutil.rmtree, tmp, True)
            out = tmp / "run"
        data = X if y is None else _write_manifest(X, y, out.parent / f"{out.name}-manifest.csv")
        self.result_ = train(data, self.config, out, progress=self.progress)
        evaluate(out, progress=self.progress)
        self.run_dir_ = out
        self.predictor_ = Predictor.from_run(out)
        self.classes_ = np.array(self.predictor_.classes_)
        return self

    @classmethod
    def load(cls, run: str | os.PathLike[str]) -> SeasonClassifier:
        """A fitted classifier from an existing run folder."""
        cfg = load_config(TrainConfig, RunFolder(run).config_file)
        clf = cls(out=run, **dataclasses.asdict(cfg))
        clf.run_dir_ = Path(run)
        clf.predictor_ = Predictor.from_run(run)
        clf.classes_ = np.array(clf.predictor_.classes_)
        return clf

    # -- using it --------------------------------------------------------------------
    def _fitted(self) -> Predictor:
        predictor = getattr(self, "predictor_", None)
        if predictor is None:
            raise NotFittedError(
                "this SeasonClassifier is not fitted yet: call fit(data) first, "
                "or SeasonClassifier.load(run_folder)"
            )
        return predictor

    def predict_proba(self, X: ImageLike | Sequence[ImageLike]) -> np.ndarray:
        """Calibrated class probabilities, shape (n_images, n_classes), columns ``classes_``."""
        return self._fitted().predict_proba(_as_images(X))

    def predict(self, X: ImageLike | Sequence[ImageLike]) -> np.ndarray:
        """The most probable class of each image, as a numpy array of class names."""
        proba = self.predict_proba(X)
        return np.asarray(self._fitted().classes_, dtype=object)[proba.argmax(1)]

    def score(self, X: ImageLike | Sequence[ImageLike], y: Sequence[str]) -> float:
        """Accuracy of ``predict(X)`` against the labels ``y``."""
        labels = np.asarray(list(y), dtype=object)
        pred = self.predict(X)
        if len(pred) != len(labels):
            raise DataError(f"{len(pred)} images but {len(labels)} labels")
        return float(np.mean(pred == labels)) if len(labels) else float("nan")


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


def _as_images(X: Any) -> list[Any]:
    """One path (str or PathLike) or one image is one image, not a sequence of characters."""
    if isinstance(X, (str, os.PathLike)):
        return [X]
    if isinstance(X, np.ndarray) and X.ndim == 3:
        return [X]
    try:
        from PIL import Image

        if isinstance(X, Image.Image):
            return [X]
    except ImportError:  # pragma: no cover - Pillow is a dependency
        pass
    return list(X)


def _write_manifest(paths: Any, labels: Sequence[str], target: Path) -> Path:
    """``fit(paths, labels)``: a manifest of absolute paths for the training stage."""
    import pandas as pd

    files = [str(Path(p).resolve()) for p in _as_images(paths)]
    labels = [str(v) for v in labels]
    if len(files) != len(labels):
        raise ConfigError(f"fit got {len(files)} images but {len(labels)} labels")
    table = pd.DataFrame({"path": files, "label": labels})
    atomic_write_text(target, table.to_csv(index=False))
    return target
