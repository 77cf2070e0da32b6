"""What ``stylecast demo`` and ``stylecast model summary`` take: their options, declared once.

Light on purpose (no numpy, no torch): the CLI builds the flags from these fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylecast.config_fields import check_fields, option

__all__ = ["DEMO_OUT", "DemoConfig", "SummaryConfig"]

DEMO_OUT = "demo_runs"  # the demo's folder: the lookbook and the run


@dataclass(frozen=True)
class DemoConfig:
    """The synthetic lookbook the demo draws and trains on."""

    n_per_class: int = option(60, "looks per season", metavar="N", low=1)
    seed: int = option(0, "seed of the lookbook and of training", low=0)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)


@dataclass(frozen=True)
class SummaryConfig:
    """``stylecast model summary``: which backbone, at which input size, with how many
    classes in its head."""

    name: str = option("efficientnet_lite0", "backbone", cli=False)
    img_size: int = option(224, "input side in pixels", metavar="PX", low=8)
    num_classes: int = option(2, "classes of the head", metavar="N", low=1)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)
