"""What several sections share: embedded images, lenient JSON reads, dates as people write them."""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from typing import Any

from stylecast.fileio import read_json

__all__ = ["data_uri", "fragment", "read_json_or_none", "when"]


def data_uri(path: Path, *, photo: bool = False) -> str | None:
    """A ``data:`` URI; photo grids become JPEG (a tenth of the PNG's size), charts stay PNG."""
    if not path.is_file():
        return None
    if photo:
        from PIL import Image

        with Image.open(path) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, format="JPEG", quality=85, optimize=True)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def read_json_or_none(path: Path) -> Any:
    """A JSON file of the run, or None when it is absent or unreadable (its section is left out)."""
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def when(value: Any) -> str:
    """ISO timestamps as people write them: 28 Nov 2026, 20:45."""
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%d %b %Y, %H:%M").lstrip("0")
    except ValueError:
        return str(value)


def fragment(html: str | None, key: str) -> dict[str, Any] | None:
    """A section whose whole body is another room's HTML fragment: ``{key: Markup(html)}``,
    or None when that room has nothing for the run."""
    from markupsafe import Markup

    return None if html is None else {key: Markup(html)}
