"""`stylecast trends` as a user runs it: output, files, and one clear line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from stylecast.cli import main
from tests.conftest import run_cli


def test_trends_command_end_to_end(rising_table: pd.DataFrame, tmp_path: Path) -> None:
    src = tmp_path / "catalogue.csv"
    rising_table.to_csv(src, index=False)
    res = run_cli(
        "trends", str(src), "--period-column", "year", "--by", "colour",
        "--models", "naive,mean,drift", "--bootstrap", "100", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = tmp_path / "runs" / "trends-catalogue"  # the default --out
    assert (out / "trend_report.html").is_file() and (out / "trends.csv").is_file()
    assert "12 periods by year: 2010 ... 2021" in res.stdout
    assert "rising:\n  rising: +" in res.stdout
    assert "falling:\n  rest: " in res.stdout
    assert "no clear trend: flat" in res.stdout
    assert "backtest, last 4 periods, WAPE over 3 series: chosen " in res.stdout
    assert "2022 (fc)" in res.stdout
    assert f"report: {Path('runs/trends-catalogue/trend_report.html')}" in res.stdout
    assert res.stderr == ""


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("content", "flags", "message"),
    [
        (
            "year,colour\n2020,red\n2021,blue\n",
            ["--period-column", "season", "--by", "colour"],
            "error: --period-column 'season' is not a column of {src}; its columns are: year, "
            "colour",
        ),
        (
            "year,colour\n2020,red\n2020,blue\n",
            ["--period-column", "year", "--by", "colour"],
            "error: {src} has one period only ('2020' in 'year'); trends need at least two periods",
        ),
        (
            "year,colour\nspring,red\nautumn,blue\n",
            ["--period-column", "year", "--by", "colour"],
            "error: --period-column 'year' holds values stylecast cannot order ('autumn', "
            "'spring'); give numbers (2023), year-and-season labels (2023FW), ISO dates, "
            "--season-column, or --period-order A,B,C",
        ),
        (
            "",
            ["--period-column", "year", "--by", "colour"],
            "error: {src} is empty; give a table with a header row and one row per item",
        ),
        (
            "year,colour\n2020,red\n2021,blue\n",
            ["--period-column", "year", "--by", "brand"],
            "error: --by 'brand' is not a column of {src}; its columns are: year, colour",
        ),
        (
            "year,colour,units\n2020,red,3\n2021,blue,-1\n",
            ["--period-column", "year", "--by", "colour", "--value", "units"],
            "error: --value 'units' has 1 missing, negative or non-numeric values (e.g. -1); "
            "give non-negative numbers such as units sold",
        ),
        (
            "year,colour\n2020,red\n2021,blue\n",
            ["--period-column", "year", "--by", "colour", "--horizon", "0"],
            "error: horizon must be an integer >= 1, got 0",
        ),
    ],
    ids=[
        "no-period-column",
        "one-period",
        "non-numeric",
        "empty",
        "no-by",
        "negative-value",
        "bad-horizon",
    ],  # fmt: skip
)
def test_bad_input_gets_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, flags: list, message: str
) -> None:
    src = _write(tmp_path, content)
    code = main(["trends", src, *flags, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == message.format(src=src) + "\n"
    assert not (tmp_path / "out").exists()


def test_missing_flag_and_foreign_out_folder(tmp_path: Path) -> None:
    src = _write(tmp_path, "year,colour\n2020,red\n2021,blue\n")
    res = run_cli("trends", src, "--by", "colour")
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1] == (
        "stylecast trends: error: the following arguments are required: --period-column"
    )
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    res = run_cli("trends", src, "--period-column", "year", "--by", "colour", "--out", str(other))
    assert res.returncode == 1
    assert res.stderr == (
        f"error: --out {other} holds files stylecast trends did not write (keep.txt); choose a "
        "new or empty folder\n"
    )


def test_help_imports_no_heavy_library() -> None:
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stylecast", "trends", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0 and "--period-column" in res.stdout
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in res.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "stylecast" in imported
    assert not imported & {"statsmodels", "matplotlib", "torch", "scipy", "pandas"}
