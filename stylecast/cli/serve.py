"""``stylecast serve``: a page and an HTTP API over a run's model."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from stylecast.cli.common import (
    add_config_options,
    add_quiet_option,
    config_from_args,
    config_overrides,
)
from stylecast.config_fields import check_fields, option
from stylecast.serve.settings import ServeSettings


@dataclass(frozen=True)
class Listen:
    """Where the server listens (flags of ``stylecast serve`` that no ServeSettings holds)."""

    host: str = option("127.0.0.1", "address to listen on")
    port: int = option(8000, "port", low=1, high=65535)

    def __post_init__(self) -> None:
        check_fields(self, by_flag=True)


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
    add_config_options(p, Listen)
    add_config_options(p, ServeSettings)
    add_quiet_option(p, "no access log")
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from stylecast.run import RunFolder
    from stylecast.serve import serve

    RunFolder(args.run).require_finished()
    listen = config_from_args(Listen, args)
    key = ServeSettings.key_from_env(config_overrides(args, ServeSettings)["api_key"])
    settings = config_from_args(ServeSettings, args, api_key=key)
    serve(args.run, settings, host=listen.host, port=listen.port, quiet=args.quiet)
    return 0
