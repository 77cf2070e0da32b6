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

__all__ = [
    "run_columns",
    "IMAGE_EXTENSIONS",
    "SPLITS",
    "Dataset",
    "discover",
    "printable_path",
    "resolve_group_column",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
SPLITS = ("train", "val", "test")
_IGNORED_NAMES = {"manifest.csv", "manifest.parquet", "readme.md", "readme.txt", "license"}


@dataclass(frozen=True)
class Dataset:
    """Images found at a source: one row per image.

    ``table`` columns: ``path`` (absolute), ``relpath`` (as written in the manifest or
    relative to the folder), ``label``, ``split`` when the source was pre-split, and any
    extra manifest columns (a chosen label or path column is copied into ``label`` or
    ``relpath`` and kept under its own name too). ``skipped`` lists the inputs left out
    before any image is opened, each ``{"path", "kind", "reason"}`` (kinds:
    ``blank_label``, ``blank_path``, ``folder``, ``dangling_symlink``, ``not_file``,
    ``unreadable_name``, ``no_label``).
    ``ignored`` lists files in class folders that are not images by their name (relative
    paths). ``warnings``: one line each for the user (e.g. a folder of data sets).
    """

    source: Path
    kind: str  # "folder", "manifest" or "presplit"
    table: pd.DataFrame
    classes: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)


def printable_path(path: str | os.PathLike[str]) -> str:
    """``path`` as text every encoder accepts (CSV, JSON, SQLite, a terminal).

    A file name that is not valid UTF-8 (on Linux, any bytes: ``b"caf\\xe9.jpg"``) comes
    from the OS with surrogate escapes that UTF-8 refuses to write; its bytes are shown as
    ``\\xe9`` instead. A valid name comes back unchanged, so ``printable_path(p) != p``
    tells whether a name is unreadable as text.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that did not come from undecodable bytes
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _skip(path: str, kind: str, reason: str) -> dict[str, str]:
    return {"path": path, "kind": kind, "reason": reason}


_UNREADABLE_NAME = "unreadable name: not valid UTF-8 (its bytes shown as \\xNN); rename the file"
_FOLDER = "is a folder, not an image"
_NOT_FILE = "not a regular file (a FIFO, socket or device)"


def _dangling(path: Path) -> str:
    try:
        target = printable_path(os.readlink(path))
    except OSError:
        return "dangling symlink (its target cannot be read)"
    return f"dangling symlink: its target {target} does not exist"


def _scan_class_folders(root: Path) -> tuple[list[tuple[str, str]], list[str], list[dict]]:
    """Images under ``root/<label>/``; files ignored by their name; inputs skipped and why."""
    rows: list[tuple[str, str]] = []
    ignored: list[str] = []
    skipped: list[dict[str, str]] = []
    for entry in sorted(root.iterdir()):
        # An image beside the class folders has no label: say so instead of losing it.
        name = entry.name
        if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
            if entry.is_dir():
                continue
            why = "not in a class folder, so it has no label"
            skipped.append(_skip(printable_path(name), "no_label", why))
    for class_dir in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for f in sorted(class_dir.rglob("*")):
            if f.name.startswith(".") or f.is_dir():
                continue
            rel = f.relative_to(root).as_posix()
            shown = printable_path(rel)
            by_name = f.suffix.lower() in IMAGE_EXTENSIONS
            if not by_name:
                if f.name.lower() not in _IGNORED_NAMES and (f.is_file() or f.is_symlink()):
                    ignored.append(shown)
            elif shown != rel:
                skipped.append(_skip(shown, "unreadable_name", _UNREADABLE_NAME))
            elif f.is_file():
                rows.append((rel, class_dir.name))
            elif f.is_symlink():
                skipped.append(_skip(rel, "dangling_symlink", _dangling(f)))
            else:
                skipped.append(_skip(rel, "not_file", _NOT_FILE))
    return rows, ignored, skipped


def _resolved(
    base: Path, relpaths: list[str], skipped: list[dict[str, str]]
) -> tuple[list[str], np.ndarray]:
    """Absolute paths, and which rows to keep: a symlink may resolve to an unreadable name."""
    paths = [str((base / r).resolve()) for r in relpaths]
    keep = np.ones(len(paths), dtype=bool)
    for i, p in enumerate(paths):
        if printable_path(p) != p:
            keep[i] = False
            skipped.append(_skip(printable_path(relpaths[i]), "unreadable_name", _UNREADABLE_NAME))
    return paths, keep


def _folder_table(
    root: Path, rows: list[tuple[str, str]], skipped: list[dict[str, str]]
) -> pd.DataFrame:
    paths, keep = _resolved(root, [r for r, _ in rows], skipped)
    kept = [(p, r, lbl) for (r, lbl), p, k in zip(rows, paths, keep, strict=True) if k]
    return pd.DataFrame(kept, columns=["path", "relpath", "label"])


def _read_manifest(
    path: Path, path_column: str = "path", label_column: str = "label"
) -> pd.DataFrame:
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
    has = ", ".join(map(str, df.columns))
    chosen = {"path": path_column, "label": label_column}
    for key, column in chosen.items():
        if column != key and column not in df.columns:
            raise DataError(
                f"--{key}-column {column!r} is not a column of {path}; its columns are {has}"
            )
        if column != key:  # copied: the chosen column keeps its own name as well
            df[key] = df[column]
    missing = [c for c in ("path", "label") if c not in df.columns]
    if missing:
        raise DataError(
            f"manifest {path} needs columns 'path' and 'label'; missing {', '.join(missing)} "
            f"(it has {has}); --path-column and --label-column name others"
        )
    for col in ("path", "label"):
        df[col] = df[col].fillna("").astype(str).str.strip()
    if "split" in df.columns:
        df["split"] = df["split"].fillna("").astype(str).str.strip()
    return df


def discover(
    data: str | os.PathLike[str],
    *,
    min_classes: int = 2,
    path_column: str = "path",
    label_column: str = "label",
) -> Dataset:
    """Find the images at ``data`` (folder, folder with manifest.csv, or manifest file).

    Training needs two classes or more; scoring a collection of one class (an
    all-FallWinter drop) is a normal request, so ``evaluate`` asks for ``min_classes=1``.
    ``path_column`` and ``label_column`` name a manifest's columns of image paths and
    labels (e.g. a catalogue's ``season``); a folder without a manifest has neither.
    """
    columns = (path_column, label_column)
    src = Path(data).expanduser()
    if not src.exists():
        raise DataError(f"data path {printable_path(src)} does not exist")
    here = str(src.resolve())
    if printable_path(here) != here:
        raise DataError(
            f"the data path {printable_path(here)} is not valid UTF-8 (its bytes shown as "
            "\\xNN); rename the folder"
        )
    if src.is_file():
        if src.suffix.lower() not in (".csv", ".parquet"):
            raise DataError(f"{src} is neither a folder nor a .csv/.parquet manifest")
        ds = _from_manifest(src, *columns)
    elif (src / "manifest.csv").is_file():
        ds = _from_manifest(src / "manifest.csv", *columns)
    elif columns != ("path", "label"):
        flag = "--label-column" if label_column != "label" else "--path-column"
        raise DataError(
            f"{flag} needs a manifest, and {src} is a folder without manifest.csv (its "
            "class folders are the labels)"
        )
    else:
        top = {d.name for d in src.iterdir() if d.is_dir() and not d.name.startswith(".")}
        if top and top <= set(SPLITS) and "train" in top:
            ds = _from_presplit(src)
        else:
            rows, ignored, skipped = _scan_class_folders(src)
            table = _folder_table(src, rows, skipped)
            classes = sorted(table["label"].unique())
            ds = Dataset(src.resolve(), "folder", table, classes, skipped, ignored)
            ds.warnings.extend(_data_sets_warning(src))
    _check_classes(ds, min_classes)
    return ds


def _data_sets_warning(root: Path) -> list[str]:
    """Class folders that hold manifests: more likely a folder of data sets than of classes."""
    manifests = sorted(
        f"{d.name}/{m}"
        for d in root.iterdir()
        if d.is_dir() and not d.name.startswith(".")
        for m in ("manifest.csv", "manifest.parquet")
        if (d / m).is_file()
    )
    if not manifests:
        return []
    shown = ", ".join(manifests[:3]) + (", ..." if len(manifests) > 3 else "")
    return [
        f"{printable_path(root)} holds data sets, not classes ({shown}), yet each of its "
        f"folders is taken as one label; give one data set, e.g. "
        f"{printable_path(root / manifests[0])}"
    ]


def _manifest_skips(
    df: pd.DataFrame, base: Path, manifest: Path
) -> tuple[np.ndarray, list[dict[str, str]], list[str]]:
    """Rows to keep; rows skipped and why; paths that do not exist (an error)."""
    csv = manifest.suffix.lower() != ".parquet"
    keep = np.ones(len(df), dtype=bool)
    skipped: list[dict[str, str]] = []
    missing: list[str] = []
    for i, (rel, label) in enumerate(zip(df["path"], df["label"], strict=True)):
        where = f"line {i + 2}" if csv else f"row {i + 1}"
        keep[i] = False
        if rel == "":
            skipped.append(_skip(f"{manifest.name} {where}", "blank_path", f"blank path ({where})"))
            continue
        if label == "":
            skipped.append(_skip(rel, "blank_label", f"blank label ({manifest.name} {where})"))
            continue
        p = base / rel
        if p.is_file():
            keep[i] = True
        elif p.is_dir():
            skipped.append(_skip(rel, "folder", _FOLDER))
        elif p.is_symlink():
            skipped.append(_skip(rel, "dangling_symlink", _dangling(p)))
        elif p.exists():
            skipped.append(_skip(rel, "not_file", _NOT_FILE))
        else:
            missing.append(rel)
    return keep, skipped, missing


def _from_manifest(
    manifest: Path, path_column: str = "path", label_column: str = "label"
) -> Dataset:
    df = _read_manifest(manifest, path_column, label_column)
    base = manifest.parent.resolve()
    keep, skipped, missing = _manifest_skips(df, base, manifest)
    if missing:
        raise DataError(
            f"{len(missing)} of {len(df)} paths in {manifest} do not exist, first: "
            f"{', '.join(missing[:3])}; fix the manifest or its paths (relative to the manifest)"
        )
    df = df[keep].rename(columns={"path": "relpath"}).reset_index(drop=True)
    paths, ok = _resolved(base, df["relpath"].tolist(), skipped)
    df.insert(0, "path", paths)
    df = df[ok].reset_index(drop=True)
    kind = "presplit" if "split" in df.columns else "manifest"
    if kind == "presplit":
        bad = sorted(set(df["split"]) - set(SPLITS))
        if bad:
            raise DataError(f"column 'split' in {manifest} has values {bad}; use train/val/test")
    return Dataset(base, kind, df, sorted(df["label"].unique()), skipped)


def _from_presplit(root: Path) -> Dataset:
    frames, ignored, skipped = [], [], []
    for split in SPLITS:
        if (root / split).is_dir():
            rows, ign, skp = _scan_class_folders(root / split)
            rows = [(f"{split}/{r}", lbl) for r, lbl in rows]
            skipped += [{**s, "path": f"{split}/{s['path']}"} for s in skp]
            t = _folder_table(root, rows, skipped)
            t["split"] = split
            frames.append(t)
            ignored += [f"{split}/{r}" for r in ign]
    table = pd.concat(frames, ignore_index=True)
    return Dataset(
        root.resolve(), "presplit", table, sorted(table["label"].unique()), skipped, ignored
    )


def _check_classes(ds: Dataset, min_classes: int = 2) -> None:
    if len(ds.table) == 0:
        left = ""
        if ds.skipped:
            first = ds.skipped[0]
            left = f" ({len(ds.skipped)} skipped, first: {first['path']}: {first['reason']})"
        raise DataError(
            f"no images found in {ds.source}{left}; expected class folders like "
            f"{ds.source}/<label>/<image>.jpg or a manifest.csv with path,label"
        )
    if len(ds.classes) < min_classes:
        raise DataError(
            f"{ds.source} holds only one class ({ds.classes[0]!r}); a classifier needs at "
            "least two class folders or labels"
        )


def resolve_group_column(ds: Dataset, group_column: str | None) -> str | None:
    """The column whose groups stay in one split: the one given, else ``group`` if present.

    A column given but absent is a DataError naming the columns there are.
    """
    if group_column is None:
        return "group" if "group" in ds.table.columns else None
    if group_column not in ds.table.columns:
        raise DataError(
            f"group column {group_column!r} is not in the data; columns are "
            f"{', '.join(c for c in ds.table.columns if c != 'path')}"
        )
    return group_column


def run_columns(config_file: str | os.PathLike[str]) -> tuple[str, str]:
    """The manifest columns ``(path, label)`` a run was trained with (its config.yaml's
    ``path_column`` and ``label_column``), so that other data of the same kind is read the
    same way; ``("path", "label")`` for a run without them."""
    from stylecast.config import TrainConfig, load_config
    from stylecast.errors import StylecastError

    try:
        cfg = load_config(TrainConfig, Path(config_file))
    except (StylecastError, OSError):
        return "path", "label"
    return cfg.path_column, cfg.label_column
