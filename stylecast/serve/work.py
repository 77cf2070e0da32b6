"""A bounded inference queue: worker threads, a waiting room, 503 when full, 504 when slow.

Inference runs in threads, so the event loop keeps answering health checks and uploads
while a model works. At most ``workers + queue`` jobs are admitted at once; the next request
is refused at once with 503 and ``Retry-After``. A request that waits or runs longer than
``timeout`` gets 504 -- and its job still counts against the bound until its thread is
really done (a job that has not started yet is cancelled), so timed-out requests can never
pile up work behind the limit.

Two kinds of job share the bound: :meth:`InferenceQueue.run` runs one function in a worker
thread (a request analysed on its own), :meth:`InferenceQueue.run_stages` one coroutine that
hands its thread work to :class:`Stages` (decode, the batcher, the palette: a request whose
images are classified in a batch with others', see :mod:`stylecast.serve.batching`). A
timed-out staged job cancels whatever of it has not started and still counts until what has
started is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from stylecast.serve.problems import ApiError

__all__ = ["Abandoned", "InferenceQueue", "Stages"]

T = TypeVar("T")


class InferenceQueue:
    """``workers`` threads and room for ``queue`` more jobs; see the module."""

    def __init__(
        self, workers: int, queue: int, timeout: float, threads: int | None = None
    ) -> None:
        """``threads``: the pool's size when it is not ``workers`` (a batching server's
        workers run the model in the batcher; its pool decodes and draws palettes)."""
        self.workers = workers
        self.capacity = workers + queue
        self.timeout = timeout
        self.pending = 0  # admitted jobs not finished yet (waiting or running)
        self.served = 0
        self.refused = 0
        self.timed_out = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=threads or workers, thread_name_prefix="stylecast-serve"
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

    def _admit(self) -> None:
        if self.pending >= self.capacity:
            self.refused += 1
            retry = max(1, round(self.timeout / 4))
            raise ApiError(
                503,
                "busy",
                f"the server is busy ({self.capacity} requests in progress); retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )

    def _too_slow(self) -> ApiError:
        self.timed_out += 1
        return ApiError(
            504,
            "timeout",
            f"the images were not analysed within {self.timeout:g} s; try fewer or "
            "smaller images, or later",
        )

    async def run_stages(self, job: Callable[[Stages], Awaitable[T]]) -> T:
        """``job(stages)`` on the event loop, within the bound and the timeout."""
        self._admit()
        self.pending += 1
        stages = Stages(self._executor)
        task = asyncio.ensure_future(job(stages))
        task.add_done_callback(self._finished)
        task.add_done_callback(_retrieve)
        try:
            result = await asyncio.wait_for(asyncio.shield(task), self.timeout)
        except asyncio.TimeoutError:
            stages.abandon()  # what has not started is dropped; the rest still counts
            raise self._too_slow() from None
        self.served += 1
        return result

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, within the bound and the timeout."""
        self._admit()
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
            raise self._too_slow() from None
        self.served += 1
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Abandoned(Exception):
    """A staged job stopped because its request timed out."""


class Stages:
    """The thread work of one staged job, each piece a future that :meth:`abandon` can
    cancel until it starts."""

    def __init__(self, executor: concurrent.futures.Executor) -> None:
        self._executor = executor
        self._inflight: set[concurrent.futures.Future] = set()
        self.abandoned = False

    def start(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future:
        """``fn(*args)`` in the pool, now; await it with :meth:`wait`."""
        if self.abandoned:
            raise Abandoned
        future = self._executor.submit(fn, *args)
        self._inflight.add(future)
        return future

    async def thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool, awaited."""
        return (await self.wait([self.start(fn, *args)]))[0]

    async def wait(self, futures: Sequence[concurrent.futures.Future]) -> list[Any]:
        """The results of ``futures`` (run anywhere: the pool, a batcher), once every one of
        them is done; the first failure is raised, and Abandoned after :meth:`abandon`."""
        self._inflight.update(futures)
        if self.abandoned:
            self.abandon()
        try:
            wrapped = [asyncio.wrap_future(f) for f in futures]
            if wrapped:
                await asyncio.wait(wrapped)  # all of them: none left running unawaited
        finally:
            self._inflight.difference_update(futures)
        if self.abandoned or any(w.cancelled() for w in wrapped):
            raise Abandoned
        return [w.result() for w in wrapped]

    def abandon(self) -> None:
        """Cancel every piece that has not started (a started one runs to its end)."""
        self.abandoned = True
        for future in list(self._inflight):
            future.cancel()


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    # A closed loop (RuntimeError): the server is gone, there is nothing left to count.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
