"""A scikit-learn-style facade: ``SeasonClassifier(...).fit(data).predict(paths)``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stylecast.config import TrainConfig, config_to_dict, load_config
from stylecast.errors import NotFittedError
from stylecast.inference import ImageLike, Predictor
from stylecast.run import RunFolder

if TYPE_CHECKING:
    from stylecast.training import TrainResult

__all__ = ["SeasonClassifier"]


class SeasonClassifier:
    """Train and use a season classifier with the familiar ``fit``/``predict`` calls.

    Keyword arguments are :class:`~stylecast.config.TrainConfig` keys (an unknown key is a
    ``ConfigError``). ``out`` is the run folder (a temporary one by default).

    >>> clf = SeasonClassifier(mode="head", img_size=128).fit("my-looks")  # doctest: +SKIP
    >>> clf.predict(["look.jpg"]), clf.classes_                            # doctest: +SKIP
    """

    def __init__(
        self, *, out: str | os.PathLike[str] | None = None, progress: bool = False, **params: Any
    ) -> None:
        self.config = load_config(TrainConfig, None, params)
        self.out = out
        self.progress = progress
        self._predictor: Predictor | None = None
        self.run_dir_: Path | None = None
        self.result_: TrainResult | None = None

    def get_params(self) -> dict[str, Any]:
        """The training configuration as a dict (scikit-learn's ``get_params``)."""
        return config_to_dict(self.config)

    def fit(self, data: str | os.PathLike[str]) -> SeasonClassifier:
        """Train on ``data`` (a folder or manifest), evaluate, and load the model to predict."""
        from stylecast.evaluation import evaluate
        from stylecast.training import train

        out = (
            Path(self.out)
            if self.out is not None
            else Path(tempfile.mkdtemp(prefix="stylecast-")) / "run"
        )
        self.result_ = train(data, self.config, out, progress=self.progress)
        # Evaluation fits the temperature on the validation split, so probabilities are calibrated.
        evaluate(out, progress=self.progress)
        self.run_dir_ = out
        self._predictor = Predictor.from_run(out)
        return self

    @classmethod
    def load(cls, run: str | os.PathLike[str]) -> SeasonClassifier:
        """A fitted classifier from an existing run folder."""
        clf = cls.__new__(cls)
        clf.config = load_config(TrainConfig, RunFolder(run).config_file)
        clf.out, clf.progress, clf.result_ = run, False, None
        clf.run_dir_ = Path(run)
        clf._predictor = Predictor.from_run(run)
        return clf

    def _fitted(self) -> Predictor:
        if self._predictor is None:
            raise NotFittedError(
                "this SeasonClassifier is not fitted yet: call fit(data) first, "
                "or SeasonClassifier.load(run_folder)"
            )
        return self._predictor

    @property
    def classes_(self) -> list[str]:
        """The class names, in the order of ``predict_proba``'s columns."""
        return self._fitted().classes_

    def predict_proba(self, images: Sequence[ImageLike]) -> np.ndarray:
        """Calibrated class probabilities, one row per image."""
        return self._fitted().predict_proba(images)

    def predict(self, images: Sequence[ImageLike]) -> list[str]:
        """The most probable class of each image."""
        return self._fitted().predict(images)
