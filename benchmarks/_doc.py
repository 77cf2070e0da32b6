"""Write one benchmark's section into docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\nEvery figure here was printed by a script in `benchmarks/`, run with the "
    "command shown, on the machine described in its section. Each script measures stylecast "
    "and a plain baseline in the same run, so the ratio is the figure to trust on a shared, "
    "noisy machine.\n"
)


def write_section(heading: str, body: str) -> Path:
    """Replace (or append) the ``## heading`` section of docs/benchmarks.md."""
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else HEADER
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(lambda _: section + "\n", text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + section)
    )
    DOC.parent.mkdir(parents=True, exist_ok=True)
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip() + "\n", encoding="utf-8")
    tmp.replace(DOC)
    return DOC


def shared_data(name: str) -> str:
    """The default path of one folder or file of ../shared/data beside the repository."""
    return str(DOC.parent.parent.parent / "shared" / "data" / name)


def require(path: str | Path) -> None:
    """Exit with one line when a benchmark's input is missing."""
    if not Path(path).exists():
        raise SystemExit(f"error: {path} does not exist (this benchmark needs ../shared/data)")


def machine_line() -> str:
    """The CPU, its core count and torch's version, printed once as ``machine: ...``."""
    import os
    import platform

    import torch

    line = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}"
    )
    print(f"machine: {line}")
    return line


def runs_root(stack: contextlib.ExitStack, runs: str | None) -> Path:
    """Where a benchmark keeps its runs: ``--runs DIR`` (kept, reused) or a temporary folder
    that ``stack`` removes."""
    root = Path(runs) if runs else Path(stack.enter_context(tempfile.TemporaryDirectory()))
    root.mkdir(parents=True, exist_ok=True)
    return root
