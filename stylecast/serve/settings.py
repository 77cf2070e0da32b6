"""What ``stylecast serve`` allows: upload sizes, pixels, files, the queue, timeouts, the key.

One frozen :class:`ServeSettings` holds every limit; its defaults are the ones documented in
docs/serve.md. A bad value is a :class:`~stylecast.errors.ConfigError` naming the flag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stylecast.config_fields import check_fields, option
from stylecast.inference import backend_option, device_option

__all__ = ["API_KEY_ENV", "MAX_PIXELS_CAP", "MIN_SIDE", "ServeSettings"]

API_KEY_ENV = "STYLECAST_API_KEY"
# The training decoder refuses images under 8 px a side (stylecast.data); so does the server.
MIN_SIDE = 8
_MB = 1024 * 1024
# Pillow's own decompression-bomb threshold (Image.MAX_IMAGE_PIXELS): above it Pillow warns or
# refuses by itself, so the server's limit stays below it.
MAX_PIXELS_CAP = 89_000_000
# A value out of bounds: "--max-batch is out of range: must be between 1 and 1024, got 0".
OUT_OF_RANGE = "{label} is out of range: must {rule}, got {value}"


def _valid_key(key: str) -> bool:
    return len(key) >= 8 and key.isprintable() and " " not in key


@dataclass(frozen=True)
class ServeSettings:
    """The limits of one server; every one of them is enforced and tested (tests/serve).

    Each field is also a flag of ``stylecast serve`` (:func:`stylecast.config.option`).
    """

    api_key: str | None = option(
        None,
        "require this key for /api/* (header X-API-Key or Authorization: Bearer); "
        f"default: ${API_KEY_ENV}, else none",
        metavar="KEY",
        check=_valid_key,
        error="{label} must be at least 8 printable characters without spaces "
        f"(or set {API_KEY_ENV})",
    )
    max_upload_bytes: int = option(
        10 * _MB,  # counted while the upload streams in
        "largest accepted file in MB",
        flag="--max-upload-mb",
        metavar="N",
        scale=_MB,
        above=0,
        high=1024,
    )
    max_pixels: int = option(
        40_000_000,
        "largest accepted width x height, read before decoding",
        metavar="N",
        low=MIN_SIDE * MIN_SIDE,
        high=MAX_PIXELS_CAP,
    )
    max_files: int = option(8, "images per request", metavar="N", low=1, high=256)
    # Inference threads; each model call gets the usable cores shared out among them.
    workers: int = option(
        1,
        "threads running the model (batches, or requests with --max-batch 1); each call "
        "gets the cores divided among them",
        metavar="N",
        low=1,
        high=64,
    )
    queue: int = option(
        64,
        "requests that may wait for the model; beyond them 503",
        metavar="N",
        low=0,
        high=10_000,
    )
    max_batch: int = option(
        32,
        "images of all clients classified in one forward pass; 1 analyses each request on its own",
        metavar="N",
        low=1,
        high=1024,
    )
    max_wait_ms: float = option(
        5.0,
        "how long a batch short of --max-batch may wait for requests already on their "
        "way; a lone request never waits",
        metavar="MS",
        low=0,
        high=1000,
    )
    timeout: float = option(
        30.0,
        "seconds for an upload to arrive, and for its analysis",
        metavar="S",
        above=0,
        high=3600,
    )
    cam_size: int = option(
        224, "side of the Grad-CAM overlay of ?cam=1", low=32, high=1024, cli=False
    )
    backend: str = backend_option("; Grad-CAM always runs in torch")
    device: str = device_option("cpu", "the model and Grad-CAM")
    auto_export: bool = option(
        True,
        "with --backend auto on a CPU, serve a run that was never exported with torch; "
        "by default the first start exports it to ONNX (RUN/model.onnx, as `stylecast export` "
        "does, about 20 s) and serves it with ONNX Runtime, several times faster",
        flag="--no-export",
        switch="off",
    )

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True, template=OUT_OF_RANGE)

    @property
    def batching(self) -> bool:
        """Whether requests share forward passes (``--max-batch`` above 1)."""
        return self.max_batch > 1

    @property
    def capacity(self) -> int:
        """Requests admitted at once: one per worker plus the waiting room."""
        return self.workers + self.queue

    @property
    def max_body_bytes(self) -> int:
        """The largest request body: every file at its limit, plus room for the form's
        boundaries and part headers. A Content-Length above it is refused unread."""
        return self.max_files * (self.max_upload_bytes + 16 * 1024) + 64 * 1024

    def limits(self) -> dict[str, float | int]:
        """The limits a client may want to know (shown in GET /api/model): integers, and
        ``timeout_s`` an integer too unless it has a fraction (e.g. 2.5)."""
        timeout = float(self.timeout)
        return {
            "max_upload_bytes": int(self.max_upload_bytes),
            "max_pixels": int(self.max_pixels),
            "max_files": int(self.max_files),
            "min_side": int(MIN_SIDE),
            "timeout_s": int(timeout) if timeout.is_integer() else timeout,
        }

    @staticmethod
    def key_from_env(given: str | None) -> str | None:
        """The API key given on the command line, else ``$STYLECAST_API_KEY``, else None."""
        key = given if given is not None else os.environ.get(API_KEY_ENV)
        return key or None
