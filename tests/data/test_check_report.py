"""The data check's report: what ``build_report`` counts and how ``format_report`` says it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stylecast.data import format_report
from stylecast.data.check_report import build_report
from stylecast.data.dupes import find_duplicates, keep_one_per_cluster
from stylecast.data.sources import Dataset


def _info(fmt: str, mode: str = "RGB", **kw: object) -> dict[str, object]:
    return {"ok": True, "format": fmt, "width": 40, "height": 60, "mode": mode, **kw}


def test_build_report_counts_and_format_report_says_it() -> None:
    rel = ["a/x.jpg", "a/copy.jpg", "b/y.png"]
    table = pd.DataFrame(
        {"path": [f"/src/{r}" for r in rel], "relpath": rel, "label": ["a", "a", "b"]}
    )
    ds = Dataset(Path("/src"), "folder", table, ["a", "b"], ignored=["a/notes.txt"])
    infos = [_info("PNG"), _info("JPEG", rotated=True), _info("PNG", mode="L", frames=3)]
    digests = ["d1", "d1", "d2"]
    dups = find_duplicates(digests, [None] * 3, [None] * 3, threshold=-1)
    keep = keep_one_per_cluster(dups, table["label"].tolist(), [2400] * 3)
    skipped = [{"path": "b/z.jpg", "kind": "empty", "reason": "empty file (0 bytes)"}]
    report = build_report(
        ds,
        readable=table,
        infos=infos,
        digests=digests,
        skipped=skipped,
        dups=dups,
        keep=keep,
        group_column=None,
    )
    assert (report["n_files"], report["n_images"], report["n_skipped"]) == (3, 3, 1)
    assert report["classes"] == {"a": 2, "b": 1} and report["imbalance"] == 2.0
    assert report["skipped_by_kind"] == {"empty": 1}
    assert report["mismatched"] == {
        "count": 1,
        "files": [{"path": "a/x.jpg", "extension": ".jpg", "format": "PNG"}],
    }
    assert report["formats"] == {"JPEG": 1, "PNG": 2}
    assert report["converted_to_rgb"] == {"grayscale": 1}
    assert report["exif_rotated"] == 1 and report["animated"] == 1
    assert report["image_sizes"]["median"] == [40, 60]
    assert report["ignored_files"] == {"count": 1, "first": ["a/notes.txt"]}
    d = report["duplicates"]
    assert (d["exact_copies"], d["clusters"], d["would_drop"], d["kept"]) == (1, 1, 1, 2)
    assert d["examples"][0]["paths"] == ["a/x.jpg", "a/copy.jpg"]
    assert not d["examples"][0]["conflict"]
    assert "groups" not in report and "given_split" not in report

    text = format_report(report, seconds=1.25).splitlines()
    assert text[0] == "checked 3 files in /src (folder) in 1.2s"
    assert "classes: a 2, b 1 (imbalance 2.00x largest/smallest)" in text
    assert (
        "duplicates (exact file copies only): 1 clusters of 2 images (1 exact copies, 0 clusters "
        "with conflicting labels); --drop-duplicates would leave out 1"
    ) in text
    assert "named as another format: 1 (kept; e.g. a/x.jpg is PNG)" in text
    assert "ignored non-image files: 1 (e.g. a/notes.txt)" in text
    assert text[-2:] == ["skipped files (empty 1):", "  b/z.jpg: empty file (0 bytes)"]
