"""The typed record of ``data_check.json``: what ``stylecast data check`` found.

:func:`stylecast.data.check_data` and training build it (training adds ``split`` and,
with ``--drop-duplicates``, ``dropped_duplicates``); ``format_report`` (the command's
text) and the report's Data section (HTML) both read it through its attributes. Reading
is lenient: a partial or older file loads, a block it lacks is ``None`` or empty.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from stylecast.errors import RunError
from stylecast.records.parts import _object

__all__ = ["DataCheckRecord", "DuplicateCluster", "DuplicateSummary", "GroupSummary"]


def _plain(cls: type, obj: Any, what: str) -> Any:
    """A dataclass of plain JSON fields from ``obj`` (missing fields take their defaults)."""
    o = _object(obj, what)
    return cls(**{f.name: o[f.name] for f in fields(cls) if f.name in o}) if o else None


def _json(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A plain dataclass's fields as JSON, in order; ``skip`` ones only when set."""
    out = {f.name: getattr(obj, f.name) for f in fields(obj)}
    return {k: v for k, v in out.items() if k not in skip or v is not None}


@dataclass(frozen=True)
class DuplicateCluster:
    """One cluster of near-duplicate images (its first paths, its labels with counts)."""

    size: int = 0
    exact: bool = False
    labels: dict[str, int] = field(default_factory=dict)
    conflict: bool = False
    paths: list[str] = field(default_factory=list)
    groups: int | None = None  # how many groups it spans, with a group column

    @property
    def label_text(self) -> str:
        return "/".join(self.labels)


@dataclass(frozen=True)
class DuplicateSummary:
    """The duplicate check: how it matched, what it found, examples (conflicts first)."""

    threshold: int = 0
    method: str = ""
    colour_tolerance: Any = None
    exact_copies: int = 0
    pairs: int = 0
    clusters: int = 0
    images_in_clusters: int = 0
    conflicting_labels: int = 0
    would_drop: int = 0
    examples: tuple[DuplicateCluster, ...] = ()
    clusters_across_groups: int | None = None
    kept: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = _json(self, ("clusters_across_groups", "kept"))
        out["examples"] = [_json(c, ("groups",)) for c in self.examples]
        return out

    @classmethod
    def from_json(cls, obj: Any) -> DuplicateSummary | None:
        s = _plain(cls, obj, "duplicates")
        if s is None:
            return None
        examples = tuple(_plain(DuplicateCluster, c, "a cluster") for c in s.examples or ())
        return cls(**{**{f.name: getattr(s, f.name) for f in fields(s)}, "examples": examples})


@dataclass(frozen=True)
class GroupSummary:
    """The group column: how many groups, how many with several images or mixed labels."""

    column: str = ""
    groups: int = 0
    with_several_images: int = 0
    largest: int = 0
    mixed_labels: int = 0
    mixed_examples: list[str] = field(default_factory=list)


# data_check.json's keys in order; ``None`` leaves an optional one out (imbalance is
# written even when None: no class is readable).
_OPTIONAL = (
    "given_split",
    "duplicates",
    "image_sizes",
    "given_split_leakage",
    "groups",
    "split",
    "dropped_duplicates",
)


@dataclass(frozen=True)
class DataCheckRecord:
    """``data_check.json``: files found, readable and skipped (with why), classes and their
    imbalance, formats and conversions, duplicates, groups; a run's adds its split."""

    source: str = ""
    kind: str = ""
    n_files: int = 0
    n_images: int = 0
    n_skipped: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    imbalance: float | None = None
    given_split: dict[str, dict[str, int]] | None = None
    skipped_by_kind: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored_files: dict[str, Any] = field(default_factory=lambda: {"count": 0, "first": []})
    mismatched: dict[str, Any] = field(default_factory=lambda: {"count": 0, "files": []})
    formats: dict[str, int] = field(default_factory=dict)
    converted_to_rgb: dict[str, int] = field(default_factory=dict)
    exif_rotated: int = 0
    animated: int = 0
    image_sizes: dict[str, list[int]] | None = None
    duplicates: DuplicateSummary | None = None
    given_split_leakage: dict[str, Any] | None = None
    groups: GroupSummary | None = None
    split: dict[str, Any] | None = None  # a run's: strategy, seed, sizes, leakage
    dropped_duplicates: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def converted_text(self) -> str:
        """``2 palette, 1 alpha``: the images converted to RGB, by what they were."""
        return ", ".join(f"{v} {k}" for k, v in self.converted_to_rgb.items())

    def decoding_notes(self) -> list[str]:
        """What decoding changed, one sentence each, as the command's text and the report's
        Data section both say it."""
        notes = []
        if self.converted_to_rgb:
            notes.append(f"converted to RGB: {self.converted_text}")
        if self.exif_rotated:
            notes.append(f"rotated by EXIF orientation: {self.exif_rotated}")
        return notes

    def to_json(self) -> dict[str, Any]:
        out = _json(self, _OPTIONAL)
        del out["extra"]
        if self.duplicates is not None:
            out["duplicates"] = self.duplicates.to_json()
        if self.groups is not None:
            out["groups"] = _json(self.groups)
        return out | self.extra

    def __getitem__(self, key: str) -> Any:
        """The file's value under ``key`` (JSON), for code written against the dict."""
        return self.to_json()[key]

    @classmethod
    def from_json(cls, obj: Any, where: str = "data_check.json") -> DataCheckRecord:
        if not isinstance(obj, Mapping):
            raise RunError(f"{where} is malformed (not a JSON object); run stylecast data check")
        names = {f.name for f in fields(cls)} - {"extra", "duplicates", "groups"}
        try:
            return cls(
                **{k: v for k, v in obj.items() if k in names},
                duplicates=DuplicateSummary.from_json(obj.get("duplicates")),
                groups=_plain(GroupSummary, obj.get("groups"), "groups"),
                extra={k: v for k, v in obj.items() if k not in names | {"duplicates", "groups"}},
            )
        except (TypeError, ValueError) as exc:
            raise RunError(f"{where} is malformed ({exc}); run stylecast data check") from None

    @classmethod
    def of(cls, value: DataCheckRecord | Mapping[str, Any]) -> DataCheckRecord:
        return value if isinstance(value, DataCheckRecord) else cls.from_json(value)

    @classmethod
    def read_if_present(cls, path: str | os.PathLike[str]) -> DataCheckRecord | None:
        """The record at ``path``; None when absent (RunError naming it when unreadable)."""
        p = Path(path)
        if not p.is_file():
            return None
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"{p} is unreadable ({exc}); restore it or train again") from None
        return cls.from_json(obj, str(p))
