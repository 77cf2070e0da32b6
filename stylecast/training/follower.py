"""The other ranks of a ``stylecast tune`` job under torchrun: they train what rank 0 does.

Above the engine (it calls :func:`~stylecast.training.engine.train`), so that the engine's
distributed layer (:mod:`stylecast.training.distributed`) never has to import it back.
"""

from __future__ import annotations

import contextlib

from stylecast.data import ImageCache
from stylecast.errors import StylecastError
from stylecast.training.distributed import join, leave_job
from stylecast.training.engine import train

__all__ = ["follow_trainings"]


def follow_trainings() -> int:
    """On ranks other than 0: run every training rank 0 announces, until it is done.

    A training that rank 0 stopped (a pruned or failed trial), or that failed the same
    way on every rank (a configuration error), is left for the next one; anything else
    ends this process, and torchrun stops the job (the study retries its trial).
    """
    dist = join()
    trainings = 0
    while True:
        kind, call = dist.broadcast(None)
        if kind == "done":
            leave_job(sync=True)
            return trainings
        trainings += 1
        with contextlib.suppress(StylecastError):
            train(**{**call, "cache": ImageCache(call["cache"]), "progress": False})
