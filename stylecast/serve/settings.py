"""What ``stylecast serve`` allows: upload sizes, pixels, files, the queue, timeouts, the key.

One frozen :class:`ServeSettings` holds every limit; its defaults are the ones documented in
docs/serve.md. A bad value is a :class:`~stylecast.errors.ConfigError` naming the flag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stylecast.errors import ConfigError

__all__ = ["API_KEY_ENV", "MAX_PIXELS_CAP", "MIN_SIDE", "ServeSettings"]

API_KEY_ENV = "STYLECAST_API_KEY"
# The training decoder refuses images under 8 px a side (stylecast.data); so does the server.
MIN_SIDE = 8
_MB = 1024 * 1024
# Pillow's own decompression-bomb threshold (Image.MAX_IMAGE_PIXELS): above it Pillow warns or
# refuses by itself, so the server's limit stays below it.
MAX_PIXELS_CAP = 89_000_000


@dataclass(frozen=True)
class ServeSettings:
    """The limits of one server; every one of them is enforced and tested (tests/serve)."""

    max_upload_bytes: int = 10 * _MB  # per file, counted while the upload streams in
    max_pixels: int = 40_000_000  # width x height, read from the header before decoding
    max_files: int = 8  # images in one request
    workers: int = 1  # inference threads (torch already spreads one batch over the cores)
    queue: int = 64  # requests that may wait (a batch drains many at once); one more: 503
    timeout: float = 30.0  # seconds for reading an upload, and again for its inference
    api_key: str | None = None  # required by /api/* when set (X-API-Key or Bearer)
    cam_size: int = 224  # side of the Grad-CAM overlay returned with ?cam=1
    max_batch: int = 32  # images classified in one forward pass across requests; 1: none
    max_wait_ms: float = 5.0  # how long a short batch may wait for requests on their way
    backend: str = "auto"  # auto (the run's ONNX export when it matches), torch, onnx, onnx-int8
    device: str = "cpu"  # where torch runs the model and Grad-CAM: cpu, cuda or auto
    auto_export: bool = True  # `stylecast serve` exports a never-exported run to ONNX (CPU)

    def __post_init__(self) -> None:
        checks = (
            ("max_upload_bytes", 1 <= self.max_upload_bytes <= 1024 * _MB, "--max-upload-mb"),
            (
                "max_pixels",
                MIN_SIDE * MIN_SIDE <= self.max_pixels <= MAX_PIXELS_CAP,
                "--max-pixels",
            ),
            ("max_files", 1 <= self.max_files <= 256, "--max-files"),
            ("workers", 1 <= self.workers <= 64, "--workers"),
            ("queue", 0 <= self.queue <= 10_000, "--queue"),
            ("timeout", 0 < self.timeout <= 3600, "--timeout"),
            ("cam_size", 32 <= self.cam_size <= 1024, "cam_size"),
            ("max_batch", 1 <= self.max_batch <= 1024, "--max-batch"),
            ("max_wait_ms", 0 <= self.max_wait_ms <= 1000, "--max-wait-ms"),
        )
        from stylecast.config import BACKENDS, DEVICES

        if self.device not in DEVICES:
            raise ConfigError(f"--device must be auto, cpu or cuda, got {self.device!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        for name, ok, flag in checks:
            if not ok:
                raise ConfigError(f"{flag} is out of range: {name} = {getattr(self, name)!r}")
        if self.api_key is not None and (
            len(self.api_key) < 8 or not self.api_key.isprintable() or " " in self.api_key
        ):
            raise ConfigError(
                "--api-key must be at least 8 printable characters without spaces "
                f"(or set {API_KEY_ENV})"
            )

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
        """The limits a client may want to know (shown in GET /api/model)."""
        return {
            "max_upload_bytes": self.max_upload_bytes,
            "max_pixels": self.max_pixels,
            "max_files": self.max_files,
            "min_side": MIN_SIDE,
            "timeout_s": self.timeout,
        }

    @staticmethod
    def key_from_env(given: str | None) -> str | None:
        """The API key given on the command line, else ``$STYLECAST_API_KEY``, else None."""
        key = given if given is not None else os.environ.get(API_KEY_ENV)
        return key or None
