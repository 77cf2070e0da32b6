"""Issue 25.10: `stylecast trends` of two inputs never writes one default folder for both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import run_cli

FLAGS = ("--period-column", "year", "--by", "colour", "--models", "naive,mean", "--quiet")


def _table(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    years = np.repeat(np.arange(2010, 2020), 40)
    colours = rng.choice(["red", "blue", "black"], size=len(years))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"year": years, "colour": colours}).to_csv(path, index=False)
    return path


def _source(folder: Path) -> str:
    return json.loads((folder / "trends.json").read_text())["source"]


def test_two_manifests_get_two_default_folders(tmp_path: Path) -> None:
    a = _table(tmp_path / "shop-a" / "manifest.csv", 1)
    b = _table(tmp_path / "shop-b" / "manifest.csv", 2)
    for src in (a, b):
        res = run_cli("trends", str(src), *FLAGS, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    runs = tmp_path / "runs"
    assert Path(_source(runs / "trends-shop-a")).resolve() == a
    assert Path(_source(runs / "trends-shop-b")).resolve() == b


def test_same_name_elsewhere_gets_a_folder_of_its_own(tmp_path: Path) -> None:
    a = _table(tmp_path / "x" / "sales.csv", 1)
    b = _table(tmp_path / "y" / "sales.csv", 2)
    for src in (a, b, a):  # the same input again reuses its own folder
        res = run_cli("trends", str(src), *FLAGS, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    runs = tmp_path / "runs"
    assert sorted(p.name for p in runs.iterdir()) == ["trends-sales", "trends-sales-2"]
    assert Path(_source(runs / "trends-sales")).resolve() == a
    assert Path(_source(runs / "trends-sales-2")).resolve() == b


def test_an_out_holding_another_inputs_trends_is_refused(tmp_path: Path) -> None:
    a = _table(tmp_path / "x" / "sales.csv", 1)
    b = _table(tmp_path / "y" / "sales.csv", 2)
    out = tmp_path / "out"
    assert run_cli("trends", str(a), *FLAGS, "--out", str(out)).returncode == 0
    before = (out / "trends.csv").read_bytes()
    res = run_cli("trends", str(b), *FLAGS, "--out", str(out))
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    assert f"{out} holds the trends of {a}" in res.stderr and "another --out" in res.stderr
    assert (out / "trends.csv").read_bytes() == before
