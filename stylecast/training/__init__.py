"""The training stage: transfer learning in three modes (head, finetune, warmup), resumable."""

from stylecast.lazy import lazy_exports

_EXPORTS = {
    "EpochCallback": "stylecast.training.engine",
    "TrainResult": "stylecast.training.result",
    "train": "stylecast.training.engine",
    "TrainState": "stylecast.training.state",
    "SoftTargets": "stylecast.training.soft",
    "train_ensemble": "stylecast.training.engine",
    "follow_trainings": "stylecast.training.follower",
    "launch_processes": "stylecast.training.distributed",
    "lead_trainings": "stylecast.training.distributed",
    "leave_job": "stylecast.training.distributed",
    "process_rank": "stylecast.training.distributed",
    "resolve_device": "stylecast.training.distributed",
    "under_torchrun": "stylecast.training.distributed",
    "amp_dtype": "stylecast.training.tensors",
    "augment_batch": "stylecast.training.tensors",
    "autocast_for": "stylecast.training.tensors",
    "iterate_batches": "stylecast.training.tensors",
    "predict_logits": "stylecast.training.tensors",
    "to_input": "stylecast.training.tensors",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
