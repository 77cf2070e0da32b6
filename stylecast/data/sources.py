"""Where the images are: an ImageFolder, a manifest (CSV or Parquet), or a given split.

Sources
    * an ImageFolder ``DATA/<label>/**/<image>`` (jpg, jpeg, png, webp, bmp, tif, tiff,
      gif (first frame); extensions in any case);
    * a folder holding ``manifest.csv`` (used in preference to the folder layout, so
      its extra columns such as ``group``, ``brand`` or ``period`` are kept);
    * a CSV or Parquet manifest ``path,label[,group,brand,period,...]`` whose paths are
      relative to the manifest;
    * pre-split ``DATA/{train,val,test}/<label>/...`` folders (or a manifest with a
      ``split`` column), honoured as given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stylecast.errors import DataError

__all__ = ["IMAGE_EXTENSIONS", "SPLITS", "Dataset", "discover"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "val", "test")
_IGNORED_NAMES = {"manifest.csv", "manifest.parquet", "readme.md", "readme.txt", "license"}


@dataclass(frozen=True)
class Dataset:
    """Images found at a source: one row per image.

    ``table`` columns: ``path`` (absolute), ``relpath`` (as written in the manifest or
    relative to the folder), ``label``, ``split`` when the source was pre-split, and any
    extra manifest columns. ``ignored`` lists files in class folders that are not images
    by their name (relative paths).
    """

    source: Path
    kind: str  # "folder", "manifest" or "presplit"
    table: pd.DataFrame
    classes: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")


def _scan_class_folders(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    rows, ignored = [], []
    for class_dir in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for f in sorted(class_dir.rglob("*")):
            if _is_image(f):
                rows.append((str(f.relative_to(root).as_posix()), class_dir.name))
            elif (
                f.is_file()
                and not f.name.startswith(".")
                and f.name.lower() not in (_IGNORED_NAMES)
            ):
                ignored.append(str(f.relative_to(root).as_posix()))
    return rows, ignored


def _read_manifest(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except ImportError:
        raise DataError(
            "reading Parquet manifests needs pyarrow: pip install 'stylecast[parquet]'"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pandas raises many parser errors
        raise DataError(f"cannot read manifest {path}: {exc}") from None
    missing = [c for c in ("path", "label") if c not in df.columns]
    if missing:
        raise DataError(
            f"manifest {path} needs columns 'path' and 'label'; missing {', '.join(missing)} "
            f"(it has {', '.join(map(str, df.columns))})"
        )
    for col in ("path", "label"):
        df[col] = df[col].fillna("").astype(str).str.strip()
    if "split" in df.columns:
        df["split"] = df["split"].fillna("").astype(str).str.strip()
    return df


def discover(data: str | os.PathLike[str]) -> Dataset:
    """Find the images at ``data`` (folder, folder with manifest.csv, or manifest file)."""
    src = Path(data).expanduser()
    if not src.exists():
        raise DataError(f"data path {src} does not exist")
    if src.is_file():
        if src.suffix.lower() not in (".csv", ".parquet"):
            raise DataError(f"{src} is neither a folder nor a .csv/.parquet manifest")
        ds = _from_manifest(src)
    elif (src / "manifest.csv").is_file():
        ds = _from_manifest(src / "manifest.csv")
    else:
        top = {d.name for d in src.iterdir() if d.is_dir() and not d.name.startswith(".")}
        if top and top <= set(SPLITS) and "train" in top:
            ds = _from_presplit(src)
        else:
            rows, ignored = _scan_class_folders(src)
            table = pd.DataFrame(rows, columns=["relpath", "label"])
            table.insert(0, "path", [str((src / r).resolve()) for r in table["relpath"]])
            classes = sorted(table["label"].unique())
            ds = Dataset(src.resolve(), "folder", table, classes, ignored=ignored)
    _check_classes(ds)
    return ds


def _from_manifest(manifest: Path) -> Dataset:
    df = _read_manifest(manifest)
    base = manifest.parent.resolve()
    df = df[df["path"] != ""]
    df = df.rename(columns={"path": "relpath"})
    df.insert(0, "path", [str((base / p).resolve()) for p in df["relpath"]])
    exists = np.array([Path(p).is_file() for p in df["path"]], dtype=bool)
    if not exists.all():
        missing = df.loc[~exists, "relpath"].tolist()
        raise DataError(
            f"{len(missing)} of {len(df)} paths in {manifest} do not exist, first: "
            f"{', '.join(missing[:3])}; fix the manifest or its paths (relative to the manifest)"
        )
    df = df[df["label"] != ""].reset_index(drop=True)
    kind = "presplit" if "split" in df.columns else "manifest"
    if kind == "presplit":
        bad = sorted(set(df["split"]) - set(SPLITS))
        if bad:
            raise DataError(f"column 'split' in {manifest} has values {bad}; use train/val/test")
    return Dataset(base, kind, df, sorted(df["label"].unique()))


def _from_presplit(root: Path) -> Dataset:
    frames, ignored = [], []
    for split in SPLITS:
        if (root / split).is_dir():
            rows, ign = _scan_class_folders(root / split)
            t = pd.DataFrame(rows, columns=["relpath", "label"])
            t["relpath"] = [f"{split}/{r}" for r in t["relpath"]]
            t["split"] = split
            frames.append(t)
            ignored += [f"{split}/{r}" for r in ign]
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "path", [str((root / r).resolve()) for r in table["relpath"]])
    return Dataset(
        root.resolve(), "presplit", table, sorted(table["label"].unique()), ignored=ignored
    )


def _check_classes(ds: Dataset) -> None:
    if len(ds.table) == 0:
        raise DataError(
            f"no images found in {ds.source}; expected class folders like "
            f"{ds.source}/<label>/<image>.jpg or a manifest.csv with path,label"
        )
    if len(ds.classes) < 2:
        raise DataError(
            f"{ds.source} holds only one class ({ds.classes[0]!r}); a classifier needs at "
            "least two class folders or labels"
        )
