"""The export stage: a run's network as ONNX (and int8), and ONNX Runtime inference over it.

Modules: ``graph`` (the network behind its normalisation, exported with torch),
``quantize`` (static per-channel QDQ int8 in ONNX Runtime), ``pipeline`` (``stylecast
export``: export, parity check, int8 verdict, ``export.json``), ``runtime``
(:class:`OnnxLogits`, and whether a run's export matches its weights) and ``engine`` (the
export picked for a ``--backend``, as predict, evaluate, distill and serve run it). onnx and
onnxruntime are an optional extra (``pip install 'stylecast[onnx]'``), imported on use.
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "ExportConfig": "stylecast.export.pipeline",
    "ExportResult": "stylecast.export.results",
    "Int8Check": "stylecast.export.results",
    "Parity": "stylecast.export.results",
    "export_run": "stylecast.export.pipeline",
    "format_export": "stylecast.export.summary",
    "DEFAULT_OPSET": "stylecast.export.graph",
    "PixelModel": "stylecast.export.graph",
    "export_onnx": "stylecast.export.graph",
    "exportable_copy": "stylecast.export.graph",
    "QuantSettings": "stylecast.export.quantize",
    "cpu_has_vnni": "stylecast.export.quantize",
    "quantize_int8": "stylecast.export.quantize",
    "OnnxEngine": "stylecast.export.engine",
    "onnx_engine": "stylecast.export.engine",
    "stream_onnx_logits": "stylecast.export.engine",
    "ExportStatus": "stylecast.export.runtime",
    "OnnxLogits": "stylecast.export.runtime",
    "export_status": "stylecast.export.runtime",
    "find_export": "stylecast.export.runtime",
    "load_onnx": "stylecast.export.runtime",
    "require_onnxruntime": "stylecast.export.runtime",
    "session_options": "stylecast.export.runtime",
    "usable_cores": "stylecast.export.runtime",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
