"""How palettes are extracted (:class:`PaletteConfig`): a module without numpy, so that
``stylecast palette``'s flags can be built from its fields when the command line starts."""

from __future__ import annotations

from dataclasses import dataclass

from stylecast.config_fields import check_fields, option

__all__ = ["PaletteConfig"]


@dataclass(frozen=True)
class PaletteConfig:
    """How palettes are extracted; the defaults are the ones measured in docs/palette.md."""

    n_colours: int = option(
        6, "clusters per image before merging", flag="--colours", metavar="K", low=1, high=16
    )
    merge_delta_e: float = option(
        10.0, "CIEDE2000 under which two clusters are one colour", low=0, high=100, cli=False
    )
    backdrop_delta_e: float = option(
        3.0,
        "CIE76 distance to a backdrop colour (widened on noisy ones)",
        low=0,
        high=100,
        cli=False,
    )
    min_share: float = option(
        0.02, "clusters smaller than this join their nearest neighbour", low=0, below=0.5, cli=False
    )
    max_side: int = option(
        256, "larger images are reduced to this long side first", low=8, high=4096, cli=False
    )
    centre_sigma: float = option(
        0.35,
        "Gaussian weight towards the centre (half-diagonals); 0: none",
        low=0,
        high=100,
        cli=False,
    )
    skin_keep_above: float = option(
        0.2, "drop skin clusters when the rest hold this share or more", low=0, high=1, cli=False
    )
    min_garment: float = option(
        0.02, "below this share of the image, fall back to the centre", low=0, below=1, cli=False
    )
    seed: int = option(0, "k-means seed", cli=False)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)
