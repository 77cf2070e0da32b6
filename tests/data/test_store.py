"""The cache's SQLite index: digests follow file content, not names."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from stylecast.data import file_digest
from stylecast.data.store import FileIndex


def test_digests_follow_file_content(tmp_path: Path) -> None:
    p = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (1, 2, 3)).save(p)
    index = FileIndex(tmp_path / "cache")
    first = index.digests([str(p)])
    assert first == [file_digest(p)] and index.digests([str(p)]) == first
    Image.new("RGB", (20, 20), (9, 9, 9)).save(p)  # same size on disk, new content
    assert index.digests([str(p)]) == [file_digest(p)] != first
