"""What ``stylecast distill`` does besides training: the soft labels' temperature and weight."""

from __future__ import annotations

from dataclasses import dataclass

from stylecast.config_fields import check_types, option
from stylecast.errors import ConfigError

__all__ = ["DistillConfig"]


@dataclass(frozen=True)
class DistillConfig:
    """How the student learns from the teacher (the student's own training is a TrainConfig)."""

    temperature: float = option(
        2.0,
        "softening temperature tau of the teacher's and the student's probabilities in the "
        "soft loss (1 = the teacher's calibrated probabilities as they are)",
    )
    alpha: float = option(
        0.7,
        "weight of the soft loss on labelled images (1 = soft labels only, 0 = hard labels "
        "only); unlabelled extra images get the soft loss alone",
    )

    def __post_init__(self) -> None:
        check_types(self)
        if not 0.05 <= self.temperature <= 20:
            raise ConfigError(f"temperature must be in [0.05, 20], got {self.temperature}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {self.alpha}")
