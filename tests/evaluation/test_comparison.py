"""stylecast.evaluation.comparison: metrics table and McNemar's test on the images runs share."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, chi2

from stylecast.errors import DataError, RunError
from stylecast.evaluation.comparison import compare, format_comparison
from stylecast.evaluation.metrics import classification_metrics
from stylecast.run import ModelInfo, Preprocessing, RunFolder
from tests.conftest import run_cli

CLASSES = ["FallWinter", "SpringSummer"]


def _fake_run(
    root: Path, name: str, paths: list[str], true: list[int], correct: list[bool]
) -> Path:
    """A run folder with just what compare reads: evaluation.json, predictions.csv and
    model.json."""
    run = root / name
    run.mkdir(parents=True)
    y = np.array(true)
    pred = np.where(correct, y, 1 - y)
    proba = np.where(pred[:, None] == np.arange(2), 0.8, 0.2)
    ev = classification_metrics(y, proba, CLASSES, n_bootstrap=100) | {"split": "test"}
    (run / "evaluation.json").write_text(json.dumps(ev))
    pd.DataFrame(
        {
            "path": paths,
            "true": [CLASSES[i] for i in y],
            "predicted": [CLASSES[i] for i in pred],
            "p_FallWinter": proba[:, 0],
            "p_SpringSummer": proba[:, 1],
            "correct": correct,
        }
    ).to_csv(run / "predictions.csv", index=False)
    RunFolder(run).write_model_info(
        ModelInfo(
            name="efficientnet_lite0",
            timm_name="tf_efficientnet_lite0",
            classes=tuple(CLASSES),
            preprocessing=Preprocessing(img_size=64, mean=(0.5,) * 3, std=(0.5,) * 3),
        )
    )
    return run


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    """A and B on 40 shared images: both right on 20, both wrong on 4, only A right on 3,
    only B right on 13; B also has 5 images A never saw (they must be ignored)."""
    n = 40
    paths = [f"img/{i:03d}.jpg" for i in range(n)]
    true = [i % 2 for i in range(n)]
    a = [True] * 20 + [False] * 4 + [True] * 3 + [False] * 13
    b = [True] * 20 + [False] * 4 + [False] * 3 + [True] * 13
    run_a = _fake_run(tmp_path, "a", paths, true, a)
    extra = [f"img/x{i}.jpg" for i in range(5)]
    run_b = _fake_run(tmp_path, "b", extra + paths, [0] * 5 + true, [False] * 5 + b)
    return run_a, run_b


def test_mcnemar_numbers_on_shared_images(two_runs: tuple[Path, Path]) -> None:
    result = compare(two_runs)
    (pair,) = result.pairs
    assert pair.n_shared == 40
    assert (pair.b_only_a_right, pair.c_only_b_right) == (3, 13)
    assert pair.accuracy_a == pytest.approx(23 / 40)
    assert pair.accuracy_b == pytest.approx(33 / 40)
    # 16 discordant pairs < 25: the exact binomial test.
    assert pair.method == "exact"
    assert pair.pvalue == pytest.approx(binomtest(3, 16, 0.5).pvalue)
    assert pair.pvalue < 0.05 and pair.verdict.startswith("b is better than a")
    # The table comes from each run's own evaluation (B's includes its 5 extra images).
    assert [r.n for r in result.runs] == [40, 45]
    assert pair.note is None  # 40 of 40 and 45 shared
    assert result.runs[0].accuracy == pytest.approx(23 / 40)
    # The rest of each row comes from the run's evaluation.json and model.json.
    ev_b = json.loads((two_runs[1] / "evaluation.json").read_text())
    row_b = result.runs[1]
    assert (row_b.model, row_b.split, row_b.name) == ("efficientnet_lite0", "test", "b")
    assert row_b.accuracy_ci == tuple(ev_b["accuracy_ci"])
    assert (row_b.balanced_accuracy, row_b.log_loss, row_b.ece) == (
        ev_b["balanced_accuracy"],
        ev_b["log_loss"],
        ev_b["ece"],
    )
    assert row_b.macro_f1 == ev_b["macro_avg"]["f1"]
    text = format_comparison(result)
    assert "b = 3, c = 13" in text and "exact test" in text and "b is better" in text


def test_mcnemar_chi2_and_no_difference(tmp_path: Path) -> None:
    n = 100
    paths = [f"{i}.jpg" for i in range(n)]
    true = [i % 2 for i in range(n)]
    a = [True] * 50 + [True] * 16 + [False] * 14 + [False] * 20  # b = 16
    b = [True] * 50 + [False] * 16 + [True] * 14 + [False] * 20  # c = 14
    result = compare(
        [_fake_run(tmp_path, "x", paths, true, a), _fake_run(tmp_path, "y", paths, true, b)]
    )
    (pair,) = result.pairs
    assert (pair.b_only_a_right, pair.c_only_b_right, pair.method) == (16, 14, "chi2")
    stat = (abs(16 - 14) - 1) ** 2 / 30
    assert pair.statistic == pytest.approx(stat)
    assert pair.pvalue == pytest.approx(chi2.sf(stat, 1))
    assert "no significant difference" in pair.verdict


def test_three_runs_give_three_pairs(tmp_path: Path) -> None:
    paths = [f"{i}.jpg" for i in range(10)]
    true = [0, 1] * 5
    runs = [
        _fake_run(tmp_path, n, paths, true, [i % k != 0 for i in range(10)])
        for n, k in (("p", 2), ("q", 3), ("r", 5))
    ]
    result = compare(runs)
    assert [(p.a, p.b) for p in result.pairs] == [("p", "q"), ("p", "r"), ("q", "r")]


def test_partial_overlap_is_noted(tmp_path: Path) -> None:
    a = _fake_run(tmp_path, "a", [f"{i}.jpg" for i in range(20)], [0, 1] * 10, [True] * 20)
    b = _fake_run(tmp_path, "b", [f"{i}.jpg" for i in range(10, 30)], [0, 1] * 10, [True] * 20)
    (pair,) = compare([a, b]).pairs
    assert pair.n_shared == 10 and "only 10 of their 20 and 20" in pair.note


def test_failures(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    run_a, _ = two_runs
    with pytest.raises(RunError, match="at least two runs"):
        compare([run_a])
    with pytest.raises(RunError, match="does not exist"):
        compare([run_a, tmp_path / "nope"])
    unevaluated = tmp_path / "fresh"
    unevaluated.mkdir()
    with pytest.raises(RunError, match="has not been evaluated"):
        compare([run_a, unevaluated])
    other = _fake_run(tmp_path, "other", ["elsewhere/1.jpg"], [0], [True])
    with pytest.raises(DataError, match="share no evaluated images"):
        compare([run_a, other])
    flipped = _fake_run(tmp_path, "flipped", ["img/000.jpg"], [1], [True])  # A says label 0
    with pytest.raises(DataError, match="disagree on the true label"):
        compare([run_a, flipped])


def test_compare_cli(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    res = run_cli("compare", *map(str, two_runs), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "McNemar" in res.stdout and "b = 3, c = 13" in res.stdout
    saved = json.loads(out.read_text())
    assert saved["pairs"][0]["c_only_b_right"] == 13
    assert saved["pairs"][0]["pvalue"] == pytest.approx(binomtest(3, 16, 0.5).pvalue)
    assert [r["name"] for r in saved["runs"]] == ["a", "b"]


@pytest.mark.parametrize("case", ["missing", "unevaluated"])
def test_compare_cli_failures(case: str, two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    if case == "unevaluated":
        other.mkdir()
    res = run_cli("compare", str(two_runs[0]), str(other))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert ("does not exist" if case == "missing" else "has not been evaluated") in lines[0]


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (
            lambda r: (r / "evaluation.json").write_text("{not json"),
            "evaluation.json is unreadable",
        ),
        (lambda r: (r / "evaluation.json").write_text("[]"), "evaluation.json is malformed"),
        (lambda r: (r / "evaluation.json").write_text("{}"), "evaluation.json lacks 'n'"),
        (
            lambda r: (r / "predictions.csv").write_bytes(b'"a,\n"b'),
            r"predictions.csv (is unreadable|lacks columns)",
        ),
    ],
)
def test_damaged_evaluation_files_are_one_clear_error(
    two_runs: tuple[Path, Path], damage, match: str
) -> None:
    run_a, run_b = two_runs
    damage(run_b)
    with pytest.raises((RunError, DataError), match=match):
        compare([run_a, run_b])
