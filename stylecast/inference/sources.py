"""What ``stylecast predict`` reads: image files, folders of images, or a manifest table.

A manifest (a ``.csv`` or ``.parquet`` file, or a folder holding ``manifest.csv``) needs a
``path`` column only (paths relative to the manifest); every other column is carried into
the predictions. A ``label`` column whose values are the model's classes makes the set
labelled, so the shift check can also test the accuracy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stylecast.data import IMAGE_EXTENSIONS, printable_path
from stylecast.errors import DataError, MissingDependencyError

__all__ = ["PredictionInput", "expand_image_paths", "read_prediction_input"]

_UNREADABLE_NAME = "unreadable name: not valid UTF-8 (its bytes shown as \\xNN); rename it"
# Columns the predictions add (and ``p_<class>``); a manifest holding one would be ambiguous.
RESERVED = ("predicted", "confidence")


def expand_image_paths(items: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, folders expanded to the images below them (sorted)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out.extend(
                sorted(
                    f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
                )
            )
        elif p.exists():
            out.append(p)
        else:
            raise DataError(f"{p} does not exist")
    return out


@dataclass(frozen=True)
class PredictionInput:
    """The images to predict, one row each, in the order given.

    ``table`` holds ``path`` (absolute, for reading), ``relpath`` (as the user wrote it:
    the output's ``path`` column) and, for a manifest, its other columns in their order
    (``columns``). ``skipped`` lists rows left out before any image is opened.
    """

    table: pd.DataFrame
    columns: list[str]
    source: str  # "files" or "manifest"
    skipped: list[dict[str, str]] = field(default_factory=list)


def _manifest_file(items: Sequence[str | os.PathLike[str]]) -> Path | None:
    """The manifest when ``items`` is one manifest file or one folder holding manifest.csv."""
    if len(items) != 1:
        return None
    p = Path(items[0])
    if p.is_file() and p.suffix.lower() in (".csv", ".parquet"):
        return p
    if p.is_dir() and (p / "manifest.csv").is_file():
        return p / "manifest.csv"
    return None


def read_prediction_input(
    items: Sequence[str | os.PathLike[str]], path_column: str = "path"
) -> PredictionInput:
    """Resolve the command line's IMAGES: a manifest (its images in ``path_column``, the
    run's ``--path-column``), or image files and folders."""
    manifest = _manifest_file(items)
    if manifest is not None:
        return _from_manifest(manifest, path_column)
    files = expand_image_paths(items)
    if not files:
        raise DataError("no images to predict: give image files or folders holding images")
    rows, skipped = [], []
    for f in files:
        shown = printable_path(f)
        if shown != str(f):  # a name that is not UTF-8 cannot go into the table
            skipped.append({"path": shown, "kind": "unreadable_name", "reason": _UNREADABLE_NAME})
        else:
            rows.append((str(f.resolve()), str(f)))
    table = pd.DataFrame(rows, columns=["path", "relpath"])
    return PredictionInput(table, [], "files", skipped)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise MissingDependencyError(
            "reading Parquet manifests needs pyarrow: pip install 'stylecast[parquet]'"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
        raise DataError(f"cannot read manifest {path}: {exc}") from None


def _from_manifest(manifest: Path, path_column: str = "path") -> PredictionInput:
    df = _read_table(manifest)
    if path_column != "path":
        if path_column not in df.columns:
            raise DataError(
                f"manifest {manifest} has no column {path_column!r}, which the run was "
                f"trained with (--path-column); its columns: {', '.join(map(str, df.columns))}"
            )
        df = df.assign(path=df[path_column])
    if "path" not in df.columns:
        raise DataError(
            f"manifest {manifest} needs a 'path' column (it has "
            f"{', '.join(map(str, df.columns)) or 'none'})"
        )
    clash = [c for c in df.columns if c in RESERVED or str(c).startswith("p_") or c == "relpath"]
    if clash:
        raise DataError(
            f"manifest {manifest} already has column(s) {', '.join(map(str, clash))}, which the "
            "predictions write; rename or drop them"
        )
    base = manifest.parent.resolve()
    rel = df["path"].fillna("").astype(str).str.strip()
    keep, paths, skipped = [], [], []
    for i, r in enumerate(rel):
        where = f"line {i + 2}" if manifest.suffix.lower() == ".csv" else f"row {i + 1}"
        p = base / r
        reason = None
        if r == "":
            reason, r = f"blank path ({manifest.name} {where})", f"{manifest.name} {where}"
        elif printable_path(str(p)) != str(p):
            reason = _UNREADABLE_NAME
        elif not p.is_file():
            reason = "is a folder, not an image" if p.is_dir() else "does not exist"
        if reason is None:
            keep.append(i)
            paths.append(str(p.resolve()))
        else:
            skipped.append({"path": printable_path(r), "kind": "missing", "reason": reason})
    columns = [str(c) for c in df.columns if c != "path"]
    table = df.iloc[keep].drop(columns=["path"]).reset_index(drop=True)
    table.columns = columns
    table.insert(0, "relpath", [rel.iloc[i] for i in keep])
    table.insert(0, "path", paths)
    if not len(table):
        first = skipped[0] if skipped else {"path": str(manifest), "reason": "no rows"}
        raise DataError(
            f"no images to predict in {manifest} ({len(skipped)} row(s) skipped, first: "
            f"{first['path']}: {first['reason']})"
        )
    return PredictionInput(table, columns, "manifest", skipped)
