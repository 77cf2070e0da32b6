"""`stylecast palette`: prints each group's key colours; bad input is one line, exit 1."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli


def test_palette_command(two_colour_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_cli("palette", str(two_colour_data), "--by", "label", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "Hot" in r.stdout and "Cold" in r.stdout
    hot_line = next(line for line in r.stdout.splitlines() if line.startswith("Hot"))
    assert "%" in hot_line
    assert (out / "palettes.csv").is_file() and (out / "palette_summary.json").is_file()
    assert r.stderr == ""


def test_palette_command_errors(two_colour_data: Path, tmp_path: Path) -> None:
    r = run_cli("palette", str(two_colour_data), "--by", "season", "--out", str(tmp_path / "o"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"error: --by season: no such column in {two_colour_data}; columns are label, brand"
    ]
    r = run_cli("palette", str(tmp_path / "missing"))
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("palette", str(two_colour_data), "--colours", "0")
    assert r.returncode == 1 and "n_colours must be between 1 and 16" in r.stderr
    r = run_cli("palette", str(two_colour_data), "--workers", "0")
    assert r.returncode == 1 and "--workers must be at least 1" in r.stderr


def test_a_manifest_with_other_column_names(two_colour_data: Path, tmp_path: Path) -> None:
    """--path-column / --label-column: a catalogue's own column names (issue 25.9)."""
    manifest = two_colour_data / "manifest.csv"
    text = manifest.read_text().replace("path,label,brand", "image,temperature,brand", 1)
    other = two_colour_data / "catalogue.csv"
    other.write_text(text)
    out = tmp_path / "out"
    flags = ("--path-column", "image", "--label-column", "temperature", "--quiet")
    r = run_cli("palette", str(other), "--by", "temperature", "--out", str(out), *flags)
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("Hot") for line in r.stdout.splitlines())
    r = run_cli("palette", str(other), "--out", str(tmp_path / "o2"), "--quiet")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "path" in r.stderr
