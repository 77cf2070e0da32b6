"""The declared constraints of :func:`stylecast.config.option`: bounds, notes, checks."""

from __future__ import annotations

import dataclasses

import pytest

from stylecast.config_fields import bounds_rule, check_fields, option
from stylecast.errors import ConfigError


@pytest.mark.parametrize(
    ("bounds", "rule"),
    [
        ({"low": 1}, "be at least 1"),
        ({"low": 0}, "not be negative"),
        ({"above": 0}, "be positive"),
        ({"above": 0.5}, "be above 0.5"),
        ({"high": 9}, "be at most 9"),
        ({"below": 1.0}, "be below 1"),
        ({"low": 1, "high": 16}, "be between 1 and 16"),
        ({"low": 0.0, "below": 1.0}, "be in [0, 1)"),
        ({"above": 0.0, "high": 1.0}, "be in (0, 1]"),
        ({"above": 0.0, "below": 10.0}, "be positive and below 10"),
        ({}, None),
    ],
)
def test_bounds_in_words(bounds: dict, rule: str | None) -> None:
    assert bounds_rule(bounds) == rule


@dataclasses.dataclass(frozen=True)
class _Demo:
    size: int = option(3, "how big", flag="--big", low=1, high=8)
    rate: float = option(0.5, "how fast", above=0.0, high=1.0, note="1 = off")
    name: str = option("x", "a name", check=str.strip, error="{label} must not be blank")
    limit: int | None = option(None, "at most", low=1)
    key: int = option(2, "a key", low=0, error="{label} must be a natural number, got {value}")

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "size must be between 1 and 8, got 0 (--big)"),
        ({"rate": 0.0}, "--rate must be in (0, 1] (1 = off), got 0.0"),
        ({"name": "  "}, "--name must not be blank"),
        ({"limit": 0}, "--limit must be at least 1, got 0"),
        ({"key": -1}, "--key must be a natural number, got -1"),
        ({"size": True}, "size must be int, got True"),
    ],
)
def test_declared_checks_word_their_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _Demo(**kwargs)
    assert str(err.value) == message
    assert _Demo(limit=None).limit is None  # bounds skip an unset value


def test_metadata_holds_only_what_was_declared() -> None:
    size, rate, *_ = dataclasses.fields(_Demo)
    assert set(size.metadata) == {"help", "flag", "choices", "metavar", "low", "high"}
    assert rate.metadata["note"] == "1 = off"
    with pytest.raises(TypeError, match="immutable"):
        option(["a"], "a list")
