"""SeasonClassifier: the scikit-learn-style facade over train, evaluate and predict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylecast import SeasonClassifier
from stylecast.errors import NotFittedError


def test_facade_fit_predict_and_errors(lookbook: Path, tmp_path: Path) -> None:
    clf = SeasonClassifier(mode="head", img_size=48, head_epochs=15, out=tmp_path / "run")
    with pytest.raises(NotFittedError, match="call fit"):
        clf.predict(["x.jpg"])
    assert not hasattr(clf, "classes_")
    clf.fit(lookbook)
    assert clf.classes_ == ["FallWinter", "SpringSummer"]
    table = pd.read_csv(lookbook / "manifest.csv")
    paths = [lookbook / p for p in table["path"]]
    proba = clf.predict_proba(paths)
    assert proba.shape == (len(paths), 2) and np.allclose(proba.sum(1), 1, atol=1e-5)
    accuracy = np.mean(np.array(clf.predict(paths)) == table["label"].to_numpy())
    assert accuracy >= 0.85
    again = SeasonClassifier.load(tmp_path / "run")
    assert np.allclose(again.predict_proba(paths[:4]), proba[:4], atol=1e-5)
    with pytest.raises(Exception, match="unknown key 'epoch'"):
        SeasonClassifier(epoch=3)


def test_facade_keeps_the_result_and_config(lookbook: Path, tmp_path: Path) -> None:
    clf = SeasonClassifier(mode="head", img_size=48, head_epochs=2, out=tmp_path / "run")
    assert clf.get_params()["head_epochs"] == 2 and clf.result_ is None
    clf.fit(lookbook)
    assert clf.run_dir_ == tmp_path / "run"
    assert clf.result_.mode == "head" and len(clf.result_.history) == 2
    again = SeasonClassifier.load(tmp_path / "run")
    assert again.config == clf.config and again.result_ is None
