"""``stylecast serve``: a page and an HTTP API over a run's model."""

from __future__ import annotations

import argparse

from stylecast.cli.common import add_backend_option, add_device_option


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` to the subcommands."""
    p = sub.add_parser(
        "serve",
        help="a web page and an HTTP API for RUN's model (FastAPI + uvicorn)",
        description="Serve RUN's model: a page at / to pick or drop photos and see the "
        "calibrated season probabilities, the colour palette and the Grad-CAM map beside the "
        "model card; POST /api/predict (multipart field 'file', repeated for several images), "
        "GET /api/model, GET /healthz, and the API's description at /docs. Uploads are "
        "limited in size, pixels and number, inference waits in a bounded queue (503 when "
        "full), and every error is JSON. Needs the serve extra: pip install "
        "'stylecast[serve]'.",
    )
    p.add_argument("run", help="trained run folder")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--api-key",
        metavar="KEY",
        help="require this key for /api/* (header X-API-Key or Authorization: Bearer); "
        "default: $STYLECAST_API_KEY, else none",
    )
    p.add_argument(
        "--max-upload-mb",
        type=float,
        default=10.0,
        metavar="N",
        help="largest accepted file in MB (default: 10)",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=40_000_000,
        metavar="N",
        help="largest accepted width x height, read before decoding (default: 40000000)",
    )
    p.add_argument(
        "--max-files", type=int, default=8, metavar="N", help="images per request (default: 8)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="threads running the model (batches, or requests with --max-batch 1; default: 1)",
    )
    p.add_argument(
        "--queue",
        type=int,
        default=64,
        metavar="N",
        help="requests that may wait for the model; beyond them 503 (default: 64)",
    )
    p.add_argument(
        "--max-batch",
        type=int,
        default=32,
        metavar="N",
        help="images of all clients classified in one forward pass; 1 analyses each request "
        "on its own (default: 32)",
    )
    p.add_argument(
        "--max-wait-ms",
        type=float,
        default=5.0,
        metavar="MS",
        help="how long a batch short of --max-batch may wait for requests already on their "
        "way; a lone request never waits (default: 5)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds for an upload to arrive, and for its analysis (default: 30)",
    )
    add_backend_option(p, "; Grad-CAM always runs in torch")
    add_device_option(p, "the model and Grad-CAM", default="cpu")
    p.add_argument(
        "--no-export",
        action="store_true",
        help="with --backend auto on a CPU, serve a run that was never exported with torch; "
        "by default the first start exports it to ONNX (RUN/model.onnx, as `stylecast export` "
        "does, about 20 s) and serves it with ONNX Runtime, several times faster",
    )
    p.add_argument("--quiet", action="store_true", help="no access log")
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from stylecast.errors import ConfigError
    from stylecast.serve import ServeSettings, serve

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    if not 0 < args.max_upload_mb <= 1024:
        raise ConfigError(
            f"--max-upload-mb must be above 0 and at most 1024, got {args.max_upload_mb}"
        )
    settings = ServeSettings(
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pixels=args.max_pixels,
        max_files=args.max_files,
        workers=args.workers,
        queue=args.queue,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        timeout=args.timeout,
        api_key=ServeSettings.key_from_env(args.api_key),
        backend=args.backend,
        device=args.device,
        auto_export=not args.no_export,
    )
    serve(args.run, settings, host=args.host, port=args.port, quiet=args.quiet)
    return 0
