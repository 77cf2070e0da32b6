"""How the members of ``stylecast train --ensemble N`` differ from each other.

Member ``k`` trains the ensemble's configuration with seed ``seed + k`` (its initialisation
of the head, its batch order, its augmentation); the split is the ensemble's one, made
once. With ``--ensemble-recipes varied`` members also cycle through :data:`RECIPE_VARIANTS`,
recipe changes that keep a member about as accurate as the defaults while making different
mistakes (docs/ensembles.md has what was measured).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stylecast.config import TrainConfig

__all__ = ["RECIPE_VARIANTS", "member_config", "variant_text"]

# Member k (k >= 1) of a varied ensemble takes variant k % len; member 0 is the configuration
# as given. Each entry maps a field to a value, or to a function of the configuration.
RECIPE_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"crop_scale": 0.6},  # random resized crops (the defaults only flip)
    {"epochs": lambda c: max(1, round(c.epochs * 1.5))},  # a longer schedule
    {"label_smoothing": 0.0, "lr": lambda c: c.lr * 0.5},  # gentler and unsmoothed
)


def _changes(cfg: TrainConfig, k: int) -> dict[str, Any]:
    if cfg.ensemble_recipes != "varied":
        return {}
    raw = RECIPE_VARIANTS[k % len(RECIPE_VARIANTS)]
    return {key: (v(cfg) if callable(v) else v) for key, v in raw.items()}


def member_config(cfg: TrainConfig, k: int) -> TrainConfig:
    """The configuration member ``k`` of ``cfg``'s ensemble trains with (a single model)."""
    return dataclasses.replace(cfg, ensemble=1, seed=cfg.seed + k, **_changes(cfg, k))


def variant_text(cfg: TrainConfig, k: int) -> str:
    """Member ``k``'s recipe change in words ("" when it trains the configuration as given)."""
    changes = _changes(cfg, k)
    return ", ".join(
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in changes.items()
    )
