"""The serve stage: a page and an HTTP API over a run's model (``stylecast serve``).

Modules: ``settings`` (every limit), ``upload`` (multipart read with limits while it
streams), ``images`` (content sniffing, pixel limit, in-memory decoding), ``service`` (the
model, palettes, Grad-CAM), ``card`` (the model card), ``work`` (the bounded inference
queue), ``batching`` (many requests' images in one forward pass), ``app`` (the FastAPI
app and the page), ``server`` (uvicorn). FastAPI, uvicorn, python-multipart, httptools and
uvloop are the optional ``serve`` extra (``pip install 'stylecast[serve]'``), imported on use.
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "ServeSettings": "stylecast.serve.settings",
    "API_KEY_ENV": "stylecast.serve.settings",
    "create_app": "stylecast.serve.app",
    "page_html": "stylecast.serve.app",
    "serve": "stylecast.serve.server",
    "server_url": "stylecast.serve.server",
    "ApiError": "stylecast.serve.problems",
    "ModelService": "stylecast.serve.service",
    "InferenceQueue": "stylecast.serve.work",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
