"""A bounded inference queue: N worker threads, a waiting room, 503 when full, 504 when slow.

Inference runs in threads, so the event loop keeps answering health checks and uploads
while a model works. At most ``workers + queue`` jobs are admitted at once; the next request
is refused at once with 503 and ``Retry-After``. A request that waits or runs longer than
``timeout`` gets 504 -- and its job still counts against the bound until its thread is
really done (a job that has not started yet is cancelled), so timed-out requests can never
pile up work behind the limit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from stylecast.serve.problems import ApiError

__all__ = ["InferenceQueue"]

T = TypeVar("T")


class InferenceQueue:
    """``workers`` threads and room for ``queue`` more jobs; see the module."""

    def __init__(self, workers: int, queue: int, timeout: float) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.timeout = timeout
        self.pending = 0  # admitted jobs not finished yet (waiting or running)
        self.served = 0
        self.refused = 0
        self.timed_out = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="stylecast-serve"
        )

    def stats(self) -> dict[str, int]:
        return {
            "workers": self.workers,
            "capacity": self.capacity,
            "pending": self.pending,
            "served": self.served,
            "refused": self.refused,
            "timed_out": self.timed_out,
        }

    def _finished(self, _future: concurrent.futures.Future) -> None:
        self.pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, within the bound and the timeout."""
        if self.pending >= self.capacity:
            self.refused += 1
            retry = max(1, round(self.timeout / 4))
            raise ApiError(
                503,
                "busy",
                f"the server is busy ({self.capacity} requests in progress); retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )
        loop = asyncio.get_running_loop()
        self.pending += 1  # counted on the event loop's thread only: no lock needed
        future = self._executor.submit(fn, *args, **kwargs)
        # Runs in the worker (or here, when cancelled): hand the count back to the loop.
        future.add_done_callback(lambda f: _call_soon(loop, self._finished, f))
        wrapped = asyncio.wrap_future(future)
        wrapped.add_done_callback(_retrieve)  # a late failure after a 504 is not "unretrieved"
        try:
            result = await asyncio.wait_for(asyncio.shield(wrapped), self.timeout)
        except asyncio.TimeoutError:
            future.cancel()  # only a job that has not started; a running one finishes
            self.timed_out += 1
            raise ApiError(
                504,
                "timeout",
                f"the images were not analysed within {self.timeout:g} s; try fewer or "
                "smaller images, or later",
            ) from None
        self.served += 1
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    # A closed loop (RuntimeError): the server is gone, there is nothing left to count.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
