"""Helpers shared by the tuning tests (tests/tuning and tests/cli/test_tune.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from stylecast.config import TrainConfig

# Tiny and fast: 32 px inputs, a few head epochs on cached features.
BASE = dict(img_size=32, group_column="group", head_epochs=4, patience=0, pretrained=False)
FAST_FLAGS = [
    *("--img-size", "32", "--group-column", "group", "--head-epochs", "3"),
    *("--no-pretrained", "--quiet"),
]
COLUMNS_HEAD = ["number", "value", "duration"]


def base_config(**kw: object) -> TrainConfig:
    """The tests' TrainConfig: BASE with ``kw`` laid over it."""
    return TrainConfig(**{**BASE, **kw})


def space_file(tmp_path: Path, text: str) -> str:
    """Write a search-space YAML file with a unique name; its path."""
    p = tmp_path / f"space-{uuid.uuid4().hex[:6]}.yaml"
    p.write_text(text)
    return str(p)


def postgres_url() -> tuple[str, object]:
    """A fresh database on a reachable server, and its cleanup; skip when there is none."""
    given = os.environ.get("STYLECAST_TEST_POSTGRES_URL")
    if given:
        return given, lambda: None
    if shutil.which("psql") is None or shutil.which("su") is None:
        pytest.skip("no PostgreSQL client here (psql); set STYLECAST_TEST_POSTGRES_URL to test")
    if os.geteuid() != 0:
        pytest.skip(
            "creating a test database needs root (su postgres) or STYLECAST_TEST_POSTGRES_URL"
        )

    def psql(sql: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -qAtc "{sql}"'],
            capture_output=True,
            text=True,
            timeout=60,
        )

    probe = psql("select 1")
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no answer"])[0]
        pytest.skip(f"PostgreSQL server not reachable: {reason[:200]}")
    name = f"stylecast_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    for sql in (
        f"CREATE ROLE {name} LOGIN PASSWORD '{password}'",
        f"CREATE DATABASE {name} OWNER {name}",
    ):
        r = psql(sql)
        assert r.returncode == 0, r.stderr

    def cleanup() -> None:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(f"DROP ROLE IF EXISTS {name}")

    return f"postgresql://{name}:{password}@localhost/{name}", cleanup
