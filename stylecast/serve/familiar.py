"""Is an image like the run's own photos? The out-of-domain signal of the server.

A season classifier answers "FallWinter 73%" for a photo of an astronaut as readily as for a
coat. So each served image also gets its distance to the run's photos, in the space of the
run's own model: the pooled features in front of its classifier, which the batch computes
anyway (one forward pass gives the logits and the features; nothing runs twice).

- **reference**: the features of up to :data:`MAX_REFERENCE` of the run's held-out images
  (its ``val`` and ``test`` splits; a fine-tuned model's features of its own training images
  sit closer than new garments would), computed at the first start and kept in
  ``RUN/familiarity_reference.npz`` with its stamp (weights, feature model, images) and a
  digest, both checked before a later start uses it;
- **distance**: the mean cosine distance of an image's L2-normalised features to its
  :data:`K` nearest reference images;
- **threshold**: the 99th percentile of the reference images' own leave-one-out distances.
  An image farther than that is ``unusual``: farther from the run's photos than 99% of them
  are from each other. ``percentile`` says where its distance falls among theirs (100: past
  all of them).

When the signal cannot be computed (an ensemble, a model whose classifier cannot be found,
the run's images gone), :class:`Familiarity` is built without a reference, ``reason`` says
why, and each result carries ``"unusual": null, "familiarity": null``; a request never fails
for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stylecast.data import file_digest
from stylecast.fileio import atomic_path

__all__ = ["K", "MAX_REFERENCE", "Familiarity", "FeatureModel", "feature_model"]

K = 5  # nearest reference images averaged
MAX_REFERENCE = 1000  # reference images (a fixed sample of the held-out splits)
MIN_REFERENCE = 12  # fewer: the training split is added
PERCENTILE = 99.0


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class FeatureModel:
    """The served model's logits and pooled features of letterboxed pixels, in one pass."""

    def __init__(self, run_batch: Any, describe: str) -> None:
        self._run = run_batch
        self.describe = describe

    def __call__(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._run(pixels)


def _onnx_features(runtime: Any) -> FeatureModel | str:
    """An ONNX Runtime session of the export with the classifier's input as a second output."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(runtime.path))
    producers = {o: n for n in model.graph.node for o in n.output}
    node = producers.get("logits")
    hops = 0
    while node is not None and node.op_type not in ("Gemm", "MatMul") and hops < 4:
        node = producers.get(node.input[0])
        hops += 1
    if node is None or node.op_type not in ("Gemm", "MatMul"):
        return "the export's classifier layer was not found"
    name = node.input[0]
    model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    session = ort.InferenceSession(
        model.SerializeToString(),
        runtime.session.get_session_options(),
        providers=["CPUExecutionProvider"],
    )
    # One session serves both: the predictor's own calls ask for the logits alone. (Two
    # sessions would hold two copies of the weights and two pools of spinning threads.)
    runtime.session = session

    def run(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, feats = session.run(["logits", name], {"pixels": np.ascontiguousarray(pixels)})
        return np.asarray(logits, np.float32), np.asarray(feats, np.float32)

    return FeatureModel(run, "the run's own model (ONNX), pooled features")


def _torch_features(predictor: Any) -> FeatureModel | str:
    import torch

    from stylecast.training import predict_logits

    model = predictor.model
    head = getattr(model, "get_classifier", lambda: None)()
    if head is None or not hasattr(model, "forward_head"):
        return "the model has no separate classifier layer"
    prep, device = predictor.prep, predictor.device

    def run(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feats = predict_logits(
            model, pixels, prep.mean, prep.std, batch_size=64, device=device, features=True
        )
        with torch.inference_mode():
            weight = next(head.parameters())
            x = torch.from_numpy(feats).to(weight.device, weight.dtype)
            logits = head(x).float().cpu().numpy()
        return logits, feats

    return FeatureModel(run, "the run's own model (torch), pooled features")


def feature_model(predictor: Any) -> FeatureModel | str:
    """The predictor's single forward pass with features, or why there is none."""
    info = getattr(predictor, "info", None)
    if info is None or not hasattr(predictor, "pixels"):
        return "the predictor gives no features"
    if info.is_ensemble:
        return "not computed for an ensemble (its members' features differ)"
    try:
        onnx = getattr(predictor, "onnx", None)
        if onnx is not None:
            return _onnx_features(onnx.runtime)
        return _torch_features(predictor)
    except (ImportError, OSError, ValueError, RuntimeError, AttributeError) as exc:
        return f"features unavailable ({type(exc).__name__})"


class Familiarity:
    """The reference features and the threshold; :meth:`score` per batch of features."""

    def __init__(self, reference: np.ndarray | None, reason: str | None = None, features: str = ""):
        self.reason = reason
        self.features = features
        self.reference = None if reference is None else _normalise(reference)
        self.k = 0
        self.threshold = float("nan")
        self._loo = np.zeros(0)
        if self.reference is not None:
            n = len(self.reference)
            self.k = max(1, min(K, n - 1))
            sims = self.reference @ self.reference.T
            np.fill_diagonal(sims, -np.inf)  # leave each one out
            self._loo = np.sort(self._knn(sims))
            self.threshold = float(np.percentile(self._loo, PERCENTILE))

    @property
    def available(self) -> bool:
        return self.reference is not None

    def _similarities(self, features: np.ndarray) -> np.ndarray:
        # One BLAS thread: a (batch x 1280) @ (1280 x 1000) product is far too small to share,
        # and BLAS threads waking beside ONNX Runtime's made it 4 ms an image instead of 0.15.
        with _one_blas_thread():
            return _normalise(features) @ self.reference.T

    def _knn(self, sims: np.ndarray) -> np.ndarray:
        top = -np.partition(-sims, self.k - 1, axis=1)[:, : self.k]
        return 1.0 - top.mean(axis=1)

    def score(self, features: np.ndarray) -> list[dict[str, Any] | None]:
        """``{"distance", "threshold", "percentile", "unusual"}`` per image (None: no signal)."""
        if self.reference is None:
            return [None] * len(features)
        d = self._knn(self._similarities(features))
        pct = 100.0 * np.searchsorted(self._loo, d, side="right") / len(self._loo)
        return [
            {
                "distance": round(float(x), 4),
                "threshold": round(self.threshold, 4),
                "percentile": round(float(p), 1),
                "unusual": bool(x > self.threshold),
            }
            for x, p in zip(d, pct, strict=True)
        ]

    def card(self) -> dict[str, Any]:
        """What ``GET /api/model`` says of the signal."""
        if self.reference is None:
            return {"available": False, "reason": self.reason}
        return {
            "available": True,
            "reason": None,
            "features": self.features,
            "reference_images": len(self.reference),
            "k": self.k,
            "threshold": round(self.threshold, 4),
            "percentile": PERCENTILE,
        }


_CONTROLLER: list[Any] = []


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread (threadpoolctl, scikit-learn's dependency)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        except ImportError:
            _CONTROLLER.append(None)
    if _CONTROLLER[0] is None:
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


_CACHE: dict[tuple, Familiarity] = {}
_LOCK = threading.Lock()


def _reference_paths(run: Any) -> list[Path]:
    table = run.splits()
    rows = table[table["split"].isin(["val", "test"])]
    if len(rows) < MIN_REFERENCE:
        rows = table
    rel = sorted(str(p) for p in rows["path"])
    if len(rel) > MAX_REFERENCE:
        pick = np.random.default_rng(0).choice(len(rel), MAX_REFERENCE, replace=False)
        rel = [rel[i] for i in sorted(pick)]
    root = run.image_root()
    return [root / r for r in rel]


def build_familiarity(
    run: Any, predictor: Any, model: FeatureModel | str, say: Any = None
) -> Familiarity:
    """The run's reference (computed once per process and model file), or why not."""
    if isinstance(model, str):
        return Familiarity(None, model)
    try:
        weights = run.weights_file.stat()
        key = (str(run.path.resolve()), weights.st_mtime_ns, weights.st_size, model.describe)
    except OSError:
        key = None
    with _LOCK:
        if key is not None and key in _CACHE:
            return _CACHE[key]
        try:
            paths = _reference_paths(run)
        except Exception as exc:  # noqa: BLE001 - no splits.csv, no run.json: no signal
            return Familiarity(None, f"the run's image list is unreadable ({type(exc).__name__})")
        present = [p for p in paths if p.is_file()]
        if len(present) < max(2, len(paths) // 2):
            return Familiarity(None, f"the run's images are gone from {run.image_root().name}/")
        stamp = _stamp(run, model, present)
        feats = _load_reference(run, stamp)
        if feats is None:
            if say is not None:
                say(
                    f"computing the out-of-domain reference from {len(present)} of the run's "
                    f"images (kept in {run.FAMILIARITY} for later starts)"
                )
            feats = _batched(model, predictor, present)
            _save_reference(run, stamp, feats)
        fam = Familiarity(feats, features=model.describe)
        if key is not None:
            _CACHE[key] = fam
        return fam


def _batched(model: FeatureModel, predictor: Any, paths: Sequence[Path]) -> np.ndarray:
    out = [model(predictor.pixels(list(paths[i : i + 32])))[1] for i in range(0, len(paths), 32)]
    return np.concatenate(out)


def _stamp(run: Any, model: FeatureModel, paths: Sequence[Path]) -> str:
    """What the reference depends on: the weights' content, the feature model and the
    images (their names and sizes)."""
    h = hashlib.sha256()
    h.update(file_digest(run.weights_file).encode())
    h.update(model.describe.encode())
    for p in paths:
        h.update(f"{p.name}:{p.stat().st_size};".encode())
    return h.hexdigest()


def _digest(feats: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(feats, dtype=np.float32).tobytes()).hexdigest()


def _load_reference(run: Any, stamp: str) -> np.ndarray | None:
    """The kept reference when it was made for ``stamp`` and is intact, else None."""
    try:
        with np.load(run.familiarity_file, allow_pickle=False) as z:
            if str(z["stamp"]) != stamp:
                return None
            feats = np.asarray(z["features"], dtype=np.float32)
            return feats if str(z["digest"]) == _digest(feats) else None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # absent, cut short or not ours: computed again


def _save_reference(run: Any, stamp: str, feats: np.ndarray) -> None:
    """Keep the reference in the run (atomically); a folder that cannot be written is fine."""
    feats = np.asarray(feats, dtype=np.float32)
    try:
        with atomic_path(run.familiarity_file, suffix=".npz") as tmp:  # numpy adds .npz
            np.savez(tmp, features=feats, stamp=np.array(stamp), digest=np.array(_digest(feats)))
    except OSError:
        return
