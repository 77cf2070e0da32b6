"""The server's backend at its first start: a run straight from ``train`` is exported to ONNX.

On a CPU, ONNX Runtime runs the model several times faster than PyTorch (docs/serve.md
"Batching": 4.4x one by one, 6x batched at concurrency 32 on two cores), and the batcher can
only gain what the backend gives. So ``stylecast serve`` with ``--backend auto`` on a CPU,
given a run that has never been exported, runs ``stylecast export RUN`` once before it
loads the model (the same export and the same parity check against PyTorch on the run's test
split; ``export.json`` records it) and then serves the export. It adds ``model.onnx`` and
``export.json`` to the run folder and touches nothing else there; later starts find them.

It does not export when told not to (``--no-export``), when a backend or a GPU was chosen,
when the run already holds a ``model.onnx`` (a stale one is named by the usual warning and
left alone: it may be the user's), when ONNX Runtime, onnx or onnxscript are not installed,
or when the folder cannot be written. When the export fails (the test images have moved,
the exporter refuses the network), the server says why in one line and serves with torch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from stylecast.run import RunFolder
from stylecast.serve.settings import ServeSettings

__all__ = ["EXPORT_MODULES", "export_on_start", "why_not_export"]

# What `stylecast export` needs (the onnx extra; the serve extra brings it too).
EXPORT_MODULES = ("onnx", "onnxruntime", "onnxscript")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _missing_modules() -> list[str]:
    return [m for m in EXPORT_MODULES if importlib.util.find_spec(m) is None]


def why_not_export(run: str | os.PathLike[str], settings: ServeSettings) -> str | None:
    """Why the server will not export ``run`` at its start (None: it will)."""
    folder = RunFolder(run)
    if not settings.auto_export:
        return "--no-export was given"
    if settings.backend != "auto":
        return f"--backend {settings.backend} was chosen"
    if settings.device != "cpu":
        from stylecast.training import resolve_device

        if resolve_device(settings.device).type != "cpu":
            return "the model runs on a GPU"
    if not folder.path.is_dir() or not folder.has_model():
        return "the folder holds no trained model"  # ModelService.load says what to do
    if folder.onnx_file.exists():
        return f"{folder.onnx_file.name} exists"
    missing = _missing_modules()
    if missing:
        return f"{', '.join(missing)} not installed (pip install 'stylecast[onnx]')"
    if not os.access(folder.path, os.W_OK):
        return f"{folder.path} is not writable"
    return None


def export_on_start(
    run: str | os.PathLike[str],
    settings: ServeSettings,
    *,
    say: Callable[[str], None] = _stderr,
) -> Path | None:
    """Export ``run`` to ONNX when :func:`why_not_export` allows; the ONNX file, or None.

    Progress and the outcome go through ``say`` (stderr); a failed export is one warning
    line and None, and the server goes on with torch.
    """
    reason = why_not_export(run, settings)
    if reason is not None:
        if reason.endswith("(pip install 'stylecast[onnx]')"):
            say(f"note: serving with torch: {reason}; ONNX Runtime is faster on a CPU")
        return None
    from stylecast.errors import StylecastError
    from stylecast.export import export_run

    folder = RunFolder(run)
    say(
        f"exporting {folder.path} to ONNX once, to serve it with ONNX Runtime (faster than "
        "torch on a CPU; --no-export serves with torch)"
    )
    start = time.perf_counter()
    try:
        result = export_run(folder.path)
    except (StylecastError, OSError, RuntimeError, ValueError, TypeError) as exc:
        # The exporter's own failures come as RuntimeError/ValueError/TypeError subclasses
        # (torch.onnx); the server stays useful on torch.
        what = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        say(f"warning: could not export {folder.path} to ONNX ({what}); serving with torch")
        return None
    parity = result.parity
    say(
        f"exported {result.onnx.name} in {time.perf_counter() - start:.0f} s; on "
        f"{parity.images} {parity.split} images it agrees with torch on "
        f"{100 * parity.top1_agreement:.1f}% (max logit difference {parity.max_abs_diff:.1e})"
    )
    return result.onnx
