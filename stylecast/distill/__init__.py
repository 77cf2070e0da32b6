"""Distillation: one student model trained on an ensemble's soft labels (``stylecast distill``).

Modules: ``config`` (:class:`DistillConfig`: the soft labels' temperature and weight),
``targets`` (the teacher's calibrated logits for the training split and for extra
unlabelled images, without near-duplicates of held-out images) and ``stage``
(:func:`distill`: the student as an ordinary run folder, resumable). The soft loss itself is
training's (:mod:`stylecast.training.soft`).
"""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "DistillConfig": "stylecast.distill.config",
    "DistillResult": "stylecast.distill.stage",
    "distill": "stylecast.distill.stage",
    "student_config": "stylecast.distill.stage",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
