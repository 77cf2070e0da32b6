"""stylecast.plots.palette: swatch rows whose blocks are as wide as their shares."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.patches import Rectangle  # noqa: E402

from stylecast.plots import save_figure  # noqa: E402
from stylecast.plots.palette import Swatch, SwatchRow, plot_palettes  # noqa: E402


def test_swatches(tmp_path: Path) -> None:
    rows = [
        SwatchRow("FW (10)", [Swatch("#7a1e2c", 0.4, "maroon")], [Swatch("#1b2440", 0.3, "navy")]),
        SwatchRow("SS (9)", [Swatch("#f5e6a0", 0.5, "butter yellow")], []),
    ]
    fig = plot_palettes(rows, title="Palettes by label")
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 3) for p in ax.patches if isinstance(p, Rectangle))
    assert widths == [0.3, 0.4, 0.5]
    texts = [t.get_text() for t in ax.texts]
    assert "maroon\n40%" in texts and "butter yellow\n50%" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["SS (9)", "FW (10)"]
    path = save_figure(fig, tmp_path / "p.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_no_rows_draws_an_empty_figure() -> None:
    assert plot_palettes([]).axes
