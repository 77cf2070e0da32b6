"""Running the app: uvicorn on a host and port, until Ctrl-C."""

from __future__ import annotations

import gc
import os
import sys

from stylecast.errors import ConfigError, MissingDependencyError
from stylecast.serve.settings import ServeSettings

__all__ = ["serve", "server_url"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def server_url(host: str, port: int) -> str:
    """The address to open in a browser (``0.0.0.0`` is reached as 127.0.0.1 locally)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def serve(
    run: str | os.PathLike[str],
    settings: ServeSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    quiet: bool = False,
) -> None:
    """Serve ``run``'s model until interrupted (RunError when it holds none).

    On a CPU with ``backend="auto"``, a run never exported is exported to ONNX first
    (:mod:`stylecast.serve.backend`; ``settings.auto_export=False`` keeps torch)."""
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError(
            "stylecast serve needs uvicorn: pip install 'stylecast[serve]'"
        ) from None
    from stylecast.serve.app import create_app
    from stylecast.serve.service import model_threads

    settings = settings or ServeSettings()
    _check_port(host, port)  # before the model loads: a taken port is one line, at once
    from stylecast.serve.backend import export_on_start

    export_on_start(run, settings)  # a run straight from `train`, on a CPU: ONNX Runtime
    app = create_app(run, settings=settings)
    threads = model_threads(settings.workers)
    if threads is not None:  # torch's threads are the process's: share them out here
        import torch

        torch.set_num_threads(threads)
    settle_heap()
    url = server_url(host, port)
    print(f"serving {app.state.service.card['run']} at {url} (API docs: {url}docs)", flush=True)
    if settings.api_key is None and host not in _LOOPBACK:
        print(
            f"warning: {host} is reachable from other machines and no API key is set "
            "(--api-key or STYLECAST_API_KEY)",
            file=sys.stderr,
            flush=True,
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning" if quiet else "info",
        # A backstop behind the app's own queue: connections beyond it get uvicorn's 503.
        limit_concurrency=max(64, 4 * settings.capacity),
        timeout_keep_alive=5,
        server_header=False,
    )


def settle_heap() -> None:
    """Keep what the start loaded out of the garbage collector's full passes.

    torch, timm, ONNX and the model leave a few hundred thousand long-lived Python objects;
    each full collection (every few seconds under load) walked them all, 200-250 ms with the
    whole server stopped, which put a batch of requests 250 ms behind. Frozen (as Instagram
    does for its forked servers, :func:`gc.freeze`), they are never scanned again; what the
    requests allocate is collected as before."""
    gc.collect()
    gc.freeze()


def _check_port(host: str, port: int) -> None:
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port"
            ) from None
