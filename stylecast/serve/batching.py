"""Dynamic batching: the images of many requests, classified in one forward pass.

As Triton's dynamic batcher or Ray Serve's ``@serve.batch`` do: each request hands its
images (already decoded and letterboxed in its own thread) to one :class:`Batcher`, and gets
one :class:`concurrent.futures.Future` per image back. A runner thread takes what is queued,
up to ``max_batch`` images, runs the model once over all of them and answers each future with
its own row. While the model works, the next requests queue up, so under load the batches
fill by themselves; when the queue holds fewer than ``max_batch`` images, the runner waits at
most ``max_wait`` seconds from the oldest image's arrival for more -- but only while
admitted requests are still on their way to it (:meth:`Batcher.announce`). A lone client
therefore never waits for company that is not coming: at concurrency 1 a request is run at
once, as without batching.

A future cancelled before its batch starts (a request that timed out, see
:mod:`stylecast.serve.work`) is dropped from the batch; one whose batch has started finishes.
A failing batch fails each of its futures with the same exception.

:class:`BatchedAnalysis` is a request's way through a batching server (``--max-batch`` above
1): its uploads are decoded and letterboxed in the pool of :mod:`stylecast.serve.work`, its
images classified by the batcher, its palettes drawn in the pool meanwhile (so they never
hold back anyone's classification) and its Grad-CAM maps after.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stylecast.serve.images import decode
from stylecast.serve.service import ModelService
from stylecast.serve.settings import ServeSettings
from stylecast.serve.upload import Upload
from stylecast.serve.work import Stages

__all__ = ["BatchedAnalysis", "Batcher", "prep_threads"]

RunBatch = Callable[[list[Any]], Sequence[Any]]
# What /healthz shows of a batcher, beside its max_batch (all 0 before the first request).
COUNTERS = ("batches", "batched_images", "largest_batch", "dropped_images")


@dataclass
class _Item:
    data: Any
    future: concurrent.futures.Future
    arrived: float


class Batcher:
    """One queue of images, ``threads`` runners; see the module."""

    def __init__(
        self, run_batch: RunBatch, max_batch: int, max_wait: float, threads: int = 1
    ) -> None:
        if max_batch < 1 or max_wait < 0 or threads < 1:
            raise ValueError("max_batch and threads must be at least 1, max_wait at least 0")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._items: collections.deque[_Item] = collections.deque()
        self._cond = threading.Condition()
        self._coming = 0  # admitted requests that have not handed their images in yet
        self._closed = False
        self.batches = 0
        self.images = 0
        self.largest = 0
        self.dropped = 0  # images whose request gave up before their batch started
        self._threads = [
            threading.Thread(target=self._loop, name=f"stylecast-batch-{i}", daemon=True)
            for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    # -- the requests' side ------------------------------------------------------------
    def announce(self) -> None:
        """A request was admitted: its images will come (:meth:`submit`) or it will
        :meth:`withdraw`. Until then a batch short of ``max_batch`` may wait for them."""
        with self._cond:
            self._coming += 1

    def withdraw(self) -> None:
        """An announced request will hand nothing in (its upload failed to decode)."""
        with self._cond:
            self._coming = max(0, self._coming - 1)
            self._cond.notify_all()

    def submit(
        self, items: Sequence[Any], announced: bool = True
    ) -> list[concurrent.futures.Future]:
        """Queue ``items`` (one image each); their futures answer each with its own row."""
        now = time.monotonic()
        futures: list[concurrent.futures.Future] = [concurrent.futures.Future() for _ in items]
        with self._cond:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            if announced:
                self._coming = max(0, self._coming - 1)
            self._items.extend(_Item(x, f, now) for x, f in zip(items, futures, strict=True))
            self._cond.notify_all()
        return futures

    def stats(self) -> dict[str, int]:
        return {
            "max_batch": self.max_batch,
            **dict(zip(COUNTERS, (self.batches, self.images, self.largest, self.dropped))),
        }

    def close(self) -> None:
        """Stop the runners; images still queued are cancelled."""
        with self._cond:
            self._closed = True
            left = list(self._items)
            self._items.clear()
            self._cond.notify_all()
        for item in left:
            item.future.cancel()

    # -- the runners' side -------------------------------------------------------------
    def _take(self) -> list[_Item] | None:
        """The next batch (None once closed): everything queued up to ``max_batch``, after
        waiting for more only while announced requests are on their way."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            deadline = self._items[0].arrived + self.max_wait
            while len(self._items) < self.max_batch and self._coming > 0 and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch = []
            while self._items and len(batch) < self.max_batch:
                item = self._items.popleft()
                if item.future.set_running_or_notify_cancel():
                    batch.append(item)
                else:
                    self.dropped += 1
            if self._items:
                self._cond.notify_all()  # another runner may start on the rest
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            if not batch:
                continue
            try:
                rows = self.run_batch([item.data for item in batch])
                if len(rows) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} gave {len(rows)} answers")
            except BaseException as exc:  # noqa: BLE001 - every waiting request hears of it
                for item in batch:
                    item.future.set_exception(exc)
            else:
                for item, row in zip(batch, rows, strict=True):
                    item.future.set_result(row)
            with self._cond:
                self.batches += 1
                self.images += len(batch)
                self.largest = max(self.largest, len(batch))


def prep_threads() -> int:
    """Threads that decode uploads and draw palettes beside the batcher: one per core."""
    return max(2, min(8, os.cpu_count() or 1))


class BatchedAnalysis:
    """A request's way through a batching server: decode (pool), classify (the batcher,
    with other requests' images), palette (pool, meanwhile), Grad-CAM (pool, after)."""

    def __init__(self, service: ModelService, settings: ServeSettings) -> None:
        self.service = service
        self.settings = settings
        self._batcher: Any = None

    @property
    def batcher(self) -> Any:
        if self._batcher is None:  # started with the first request, after every restart
            self._batcher = Batcher(
                self.service.classify,
                self.settings.max_batch,
                self.settings.max_wait_ms / 1000,
                threads=self.settings.workers,
            )
        return self._batcher

    def stats(self) -> dict[str, int]:
        if self._batcher is None:
            return {"max_batch": self.settings.max_batch, **dict.fromkeys(COUNTERS, 0)}
        return self._batcher.stats()

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None

    def _prepare(self, uploads: list[Upload], headers: list[Any]) -> tuple[list, list]:
        images = [decode(u, h) for u, h in zip(uploads, headers, strict=True)]
        return images, self.service.prepare(images)

    async def analyse(
        self, stages: Stages, uploads: list[Upload], headers: list[Any], palette: bool, cam: bool
    ) -> list[dict[str, Any]]:
        service, batcher = self.service, self.batcher
        batcher.announce()
        try:
            images, items = await stages.thread(self._prepare, uploads, headers)
        except BaseException:
            batcher.withdraw()
            raise
        futures = batcher.submit(items)
        colours = stages.start(lambda: [service.palette(d) for d in images]) if palette else None
        try:
            rows = await stages.wait(futures)
        except BaseException:
            if colours is not None:  # the palette's thread still counts until it is done
                with contextlib.suppress(BaseException):
                    await stages.wait([colours])
            raise
        palettes = (await stages.wait([colours]))[0] if colours is not None else None
        cams = None
        if cam:
            targets = [int(row[0].argmax()) for row in rows]
            cams = await stages.thread(
                lambda: [service.cam(d, t) for d, t in zip(images, targets, strict=True)]
            )
        return service.results(images, rows, palettes, cams)
