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
    assert list(clf.classes_) == ["FallWinter", "SpringSummer"]
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
    assert clf.get_params()["head_epochs"] == 2 and not hasattr(clf, "result_")
    clf.fit(lookbook)
    assert clf.run_dir_ == tmp_path / "run"
    assert clf.result_.mode == "head" and len(clf.result_.history) == 2
    again = SeasonClassifier.load(tmp_path / "run")
    assert again.config == clf.config and not hasattr(again, "result_")


def test_scikit_learn_conventions(lookbook: Path) -> None:
    from sklearn.base import clone

    clf = SeasonClassifier(mode="head", img_size=48, head_epochs=4, lr=2e-3)
    params = clf.get_params(deep=True)
    assert params["lr"] == 2e-3 and params["out"] is None and params["mode"] == "head"
    twin = clone(clf)
    assert twin.get_params() == params and twin is not clf
    assert clf.set_params(head_epochs=6) is clf and clf.config.head_epochs == 6
    with pytest.raises(Exception, match="unknown key 'epoch'"):
        clf.set_params(epoch=3)
    with pytest.raises(Exception, match="img_size"):
        clf.set_params(img_size=4)
    assert clf.config.img_size == 48  # a refused set_params changes nothing
    assert "head_epochs=6" in repr(clf)

    table = pd.read_csv(lookbook / "manifest.csv")
    paths = [str(lookbook / p) for p in table["path"]]
    clf.fit(paths, table["label"].tolist())  # images and labels, not a folder
    run = clf.run_dir_
    assert run.is_dir() and isinstance(clf.classes_, np.ndarray)
    pred = clf.predict(paths)
    assert isinstance(pred, np.ndarray) and pred.shape == (len(paths),)
    one = clf.predict(paths[0])  # a single path is one image, not its characters
    assert one.shape == (1,) and one[0] == pred[0]
    assert clf.score(paths, table["label"]) == pytest.approx(np.mean(pred == table["label"]))
    assert clf.score(paths, table["label"]) >= 0.8
    del clf
    import gc

    gc.collect()
    assert not run.exists()  # the temporary run folder went with the estimator


def test_a_real_scikit_learn_estimator(lookbook: Path) -> None:
    """is_classifier, cross_val_score and GridSearchCV take it; its tags say images."""
    from sklearn.base import is_classifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
    from sklearn.utils import get_tags

    clf = SeasonClassifier(mode="head", img_size=48, head_epochs=10)
    assert is_classifier(clf)
    tags = get_tags(clf)
    assert tags.estimator_type == "classifier" and tags.requires_fit
    assert not tags.input_tags.two_d_array and tags.input_tags.string
    table = pd.read_csv(lookbook / "manifest.csv")
    X = [str(lookbook / p) for p in table["path"]]
    y = table["label"].tolist()
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    scores = cross_val_score(clf, X, y, cv=folds)
    assert scores.shape == (2,) and scores.min() >= 0.6  # above chance (0.5) on each fold
    search = GridSearchCV(clf, {"head_epochs": [1, 10]}, cv=folds, refit=False).fit(X, y)
    means = search.cv_results_["mean_test_score"]
    assert len(means) == 2 and max(means) >= 0.6
    assert search.best_params_["head_epochs"] in (1, 10)
    assert not hasattr(clf, "classes_")  # the searches fitted clones, not clf


@pytest.mark.filterwarnings("ignore:ConfigError occurred during set_params")
def test_scikit_learn_api_checks_that_apply() -> None:
    """scikit-learn's own estimator checks on its API (not those that fit numeric tables)."""
    from sklearn.utils import estimator_checks as checks

    clf = SeasonClassifier(mode="head", img_size=32, head_epochs=3)
    for check in (
        checks.check_estimator_cloneable,
        checks.check_estimator_repr,
        checks.check_get_params_invariance,
        checks.check_set_params,
        checks.check_mixin_order,
        checks.check_valid_tag_types,
        checks.check_estimator_tags_renamed,
        checks.check_parameters_default_constructible,
    ):
        check("SeasonClassifier", clf)
