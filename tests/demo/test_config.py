"""stylecast.demo.config: the demo's and `model summary`'s options, declared once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stylecast.cli import build_parser
from stylecast.cli.common import config_from_args
from stylecast.demo.config import DemoConfig, SummaryConfig
from stylecast.errors import ConfigError
from tests.conftest import run_cli


def test_the_flags_default_to_the_configs() -> None:
    parser = build_parser()
    args = parser.parse_args(["demo"])
    assert config_from_args(DemoConfig, args) == DemoConfig() and args.out is None
    args = parser.parse_args(["model", "summary", "--img-size", "96"])
    assert config_from_args(SummaryConfig, args) == SummaryConfig(img_size=96)
    with pytest.raises(ConfigError, match="--n-per-class must be at least 1, got 0"):
        DemoConfig(n_per_class=0)
    res = run_cli("model", "summary", "--num-classes", "0")
    assert res.returncode == 1 and "--num-classes must be at least 1" in res.stderr


def test_no_default_is_restated_in_the_cli() -> None:
    """Every flag's default lives in a config dataclass (or a named constant), never as a
    literal in stylecast/cli/."""
    cli = Path(__file__).resolve().parents[2] / "stylecast" / "cli"
    literal = re.compile(r"default=(?!None\b)[\"'0-9]")
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(cli.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert found == []
