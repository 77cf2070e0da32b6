"""The FastAPI application of ``stylecast serve``: the page, the API, and their limits.

``create_app(run)`` loads the run's model once and returns the app; it needs no server, so
tests drive it with httpx. Routes:

- ``GET /``: one self-contained page (inline CSS and JS, no external asset; a strict
  Content-Security-Policy with the hashes of its own style and script);
- ``POST /api/predict`` (multipart field ``file``, repeated): per image the calibrated class
  probabilities, the palette and, with ``?cam=1``, the Grad-CAM map;
- ``GET /api/model``: the model card; ``GET /healthz``: liveness and the queue;
- ``/docs`` and ``/openapi.json``: the API's description.

Every error is JSON ``{"error", "detail"}`` (see :mod:`stylecast.serve.problems`). With an API
key, everything under ``/api/`` needs it (``X-API-Key`` or ``Authorization: Bearer``),
checked before the body is read.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotations of the route
# functions defined inside create_app, whose names are local to it.
import asyncio
import base64
import hashlib
import hmac
import logging
import os
import re
import time
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from stylecast.errors import MissingDependencyError

try:
    import python_multipart  # noqa: F401 - the upload parser (stylecast.serve.upload)
    from fastapi import Depends, FastAPI, Query, Request, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect
except ImportError as exc:  # pragma: no cover - exercised by tests/serve with the modules hidden
    raise MissingDependencyError(
        f"stylecast serve needs FastAPI, uvicorn and python-multipart ({exc.name} is missing): "
        "pip install 'stylecast[serve]'"
    ) from None

from stylecast import __version__
from stylecast.serve.batching import BatchedAnalysis, prep_threads
from stylecast.serve.images import decode, sniff
from stylecast.serve.problems import ApiError, error_body
from stylecast.serve.schema import ErrorAnswer, Health, ModelCard, PredictAnswer
from stylecast.serve.service import ModelService, ProbabilityModel
from stylecast.serve.settings import ServeSettings
from stylecast.serve.upload import FIELD, Upload, read_uploads
from stylecast.serve.work import InferenceQueue

__all__ = ["create_app", "page_html"]

log = logging.getLogger("stylecast.serve")

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorAnswer, "description": text}
    for code, text in {
        400: "malformed request or form",
        401: "missing or wrong API key",
        408: "the upload took longer than the timeout",
        413: "a file, the body, the pixel count or the number of files is over its limit",
        415: "not an image (the bytes decide), or not multipart/form-data",
        422: "an empty, truncated, too small or undecodable image; a bad query value",
        503: "the queue is full (see Retry-After)",
        504: "the analysis took longer than the timeout",
    }.items()
}
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "one or more images (repeat the field)",
                        }
                    },
                }
            }
        },
    }
}


def page_html() -> str:
    """The page's HTML (``stylecast/serve/page.html``)."""
    return resources.files("stylecast.serve").joinpath("page.html").read_text(encoding="utf-8")


def _csp(html: str) -> str:
    """A Content-Security-Policy allowing exactly the page's own inline style and script."""

    def digest(tag: str) -> str:
        body = re.search(rf"<{tag}>(.*?)</{tag}>", html, re.S)
        raw = hashlib.sha256(body.group(1).encode() if body else b"").digest()
        return "'sha256-" + base64.b64encode(raw).decode() + "'"

    return (
        f"default-src 'none'; script-src {digest('script')}; style-src {digest('style')}; "
        "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


class _SecurityHeaders:
    """Pure ASGI middleware: nosniff, no referrer, no framing, no caching of /api answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _code(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = error_body(_code(exc.status_code), exc.detail)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid_request", problems), status_code=422)

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error", exc_info=exc)
        detail = f"the server failed on this request ({type(exc).__name__}); see its log"
        return JSONResponse(error_body("internal_error", detail), status_code=500)


def _key_checker(settings: ServeSettings) -> Any:
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
    bearer = HTTPBearer(auto_error=False)

    async def require_key(
        key: Annotated[str | None, Security(key_header)] = None,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> None:
        if settings.api_key is None:
            return
        given = key or (credentials.credentials if credentials else None)
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "replace"), settings.api_key.encode()
        ):
            raise ApiError(
                401,
                "unauthorized",
                "this server needs an API key: send it as X-API-Key or Authorization: Bearer"
                if given is None
                else "wrong API key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_key


def create_app(
    run: str | os.PathLike[str],
    *,
    settings: ServeSettings | None = None,
    predictor: ProbabilityModel | None = None,
) -> FastAPI:
    """The app serving ``run``'s model (loaded now: RunError when the folder holds none).

    ``predictor`` replaces the run's own :class:`~stylecast.inference.Predictor` (anything
    with ``classes_`` and ``predict_proba``; the run folder still provides the card).
    """
    settings = settings or ServeSettings()
    if predictor is None:
        service = ModelService.load(run, settings)
    else:
        service = ModelService(run, predictor, settings)
    batching = BatchedAnalysis(service, settings) if settings.batching else None
    work = InferenceQueue(
        settings.workers,
        settings.queue,
        settings.timeout,
        threads=prep_threads() if batching else None,
    )
    html = page_html()
    csp = _csp(html)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        work.close()
        if batching:
            batching.close()

    app = FastAPI(
        title="stylecast",
        version=__version__,
        description="Season probabilities, colour palette and Grad-CAM for fashion photos, "
        f"from the model of run {service.card['run']!r}. Errors are JSON "
        '`{"error": CODE, "detail": SENTENCE}`.',
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.service, app.state.queue, app.state.settings = service, work, settings
    app.state.batching = batching
    app.add_middleware(_SecurityHeaders)
    _install_error_handlers(app)
    keyed = [Depends(_key_checker(settings))]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon, and no 404 in the browser's console

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness: answers while inference runs (it runs in worker threads)."""
        return {
            "status": "ok",
            "api_key_required": settings.api_key is not None,
            "queue": {**work.stats(), **(batching.stats() if batching else {})},
        }

    @app.get("/api/model", response_model=ModelCard, dependencies=keyed, tags=["model"])
    async def model_card() -> dict[str, Any]:
        """The model card: classes, test accuracy with its interval, data, date, limits."""
        return service.card

    @app.post(
        "/api/predict",
        response_model=PredictAnswer,
        response_model_exclude_unset=True,
        dependencies=keyed,
        responses=_ERRORS,
        openapi_extra=_UPLOAD_BODY,
        tags=["model"],
    )
    async def predict(
        request: Request,
        palette: Annotated[bool, Query(description="include each image's colour palette")] = True,
        cam: Annotated[bool, Query(description="include the Grad-CAM map (backward pass)")] = False,
    ) -> dict[str, Any]:
        """Season probabilities (calibrated) of every image in the multipart field `file`."""
        uploads = await _read(request, settings)
        headers = [sniff(u, settings) for u in uploads]  # header only: cheap, on the loop
        start = time.perf_counter()
        if batching:
            results = await work.run_stages(
                lambda stages: batching.analyse(stages, uploads, headers, palette, cam)
            )
        else:

            def job() -> list[dict[str, Any]]:
                images = [decode(u, h) for u, h in zip(uploads, headers, strict=True)]
                return service.analyse(images, palette=palette, cam=cam)

            results = await work.run(job)
        return {
            "model": service.card["model"]["name"],
            "classes": service.classes,
            "results": results,
            "seconds": round(time.perf_counter() - start, 4),
        }

    return app


async def _read(request: Request, settings: ServeSettings) -> list[Upload]:
    """The uploads of ``request`` within the limits, or 408 when they arrive too slowly."""
    try:
        return await asyncio.wait_for(
            read_uploads(request.headers, request.stream(), settings), settings.timeout
        )
    except asyncio.TimeoutError:
        raise ApiError(
            408, "upload_timeout", f"the upload did not arrive within {settings.timeout:g} s"
        ) from None
    except ClientDisconnect:
        raise ApiError(400, "client_disconnected", "the client went away mid-upload") from None
