"""Data-parallel training under torchrun: who this process is, and the few collectives the
training loop needs.

``torchrun --nproc_per_node N -m stylecast train DATA ...`` starts N processes with
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set; :func:`join` turns that into a
:class:`Dist`. The control plane (who failed, the run's config, checkpoints, validation
logits) travels as Python objects over a gloo group on every device; gradients travel over
NCCL on CUDA (a second group, :meth:`Dist.data_group`) and over the gloo group on CPU.

How a run is shared out (see docs/scale.md):

* ``--batch-size`` is the *global* batch: every rank draws the same seeded order and the
  same augmentation parameters for the whole batch and takes every world-th image of it, so
  each step averages the gradient of exactly the images a single process would see (the
  learning rate needs no scaling). BatchNorm statistics are per process on CPU and
  synchronised (SyncBatchNorm) on CUDA.
* The head phase (seconds on cached features) runs on rank 0 and its result is broadcast.
* Rank 0 alone writes the run folder: config, split, metrics, checkpoints, the model.

A single process is a :class:`Dist` of world size 1 whose collectives return at once, so
the training loop has one code path.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from stylecast.errors import ConfigError, RunError

__all__ = [
    "Dist",
    "PeerFailed",
    "SINGLE",
    "announce_training",
    "describe_job",
    "join",
    "lead_trainings",
    "leave_job",
    "launch_processes",
    "process_rank",
    "resolve_device",
    "shared_file",
    "under_torchrun",
]

T = TypeVar("T")

# How long a rank waits for the others at one collective: rank 0 may decode a large
# image folder (or compute its features) while the others wait for it.
TIMEOUT_ENV = "STYLECAST_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 4 * 3600


class PeerFailed(RunError):
    """Another process of the job failed; this one stops with it."""


def under_torchrun() -> bool:
    """Whether torchrun (or another launcher) started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 and "RANK" in os.environ


def process_rank() -> int:
    """This process's rank (0 outside torchrun): only rank 0 prints and evaluates."""
    return int(os.environ.get("RANK", "0") or 0) if under_torchrun() else 0


def resolve_device(name: str, local_rank: int = 0) -> Any:
    """The torch device for ``auto``, ``cpu`` or ``cuda`` (this process's GPU under torchrun)."""
    import torch

    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError(
                "device 'cuda' was asked for but no CUDA GPU is available; use --device cpu"
            )
        n = torch.cuda.device_count()
        if local_rank >= n:
            raise ConfigError(
                f"process {local_rank} of this machine has no GPU of its own ({n} visible): "
                "start at most one process per GPU (--nproc_per_node)"
            )
        return torch.device("cuda", local_rank)
    if name not in ("auto", "cpu"):
        raise ConfigError(f"device must be auto, cpu or cuda; got {name!r}")
    return torch.device("cpu")


def _status(fn: Callable[[], T]) -> tuple[T | None, BaseException | None]:
    try:
        return fn(), None
    except BaseException as exc:  # noqa: BLE001 - re-raised after the others know
        return None, exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class Dist:
    """This process's place in a data-parallel job (world size 1: a plain single process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -- objects between ranks ------------------------------------------------------------
    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        import torch.distributed as dist

        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]  # type: ignore[return-value]

    def gather(self, obj: T) -> list[T]:
        """Every rank's ``obj``, in rank order, on every rank."""
        if not self.active:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.barrier()

    # -- steps that may fail on one rank --------------------------------------------------
    def agree(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on every rank; if it failed anywhere, it fails everywhere.

        The rank that failed raises its own exception; the others raise
        :class:`PeerFailed` naming it, so no rank waits forever at the next collective.
        """
        result, exc = _status(fn)
        if not self.active:
            if exc is not None:
                raise exc
            return result  # type: ignore[return-value]
        failures = self.gather(None if exc is None else _describe(exc))
        if exc is not None:
            raise exc
        for rank, failure in enumerate(failures):
            if failure is not None:
                raise PeerFailed(f"process {rank} of the job failed ({failure}); this one stops")
        return result  # type: ignore[return-value]

    def on_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 only; every rank gets its result (or its failure)."""
        if not self.active:
            return fn()
        result, exc = _status(fn) if self.is_main else (None, None)
        box = self.broadcast((result, None if exc is None else _describe(exc)))
        if exc is not None:
            raise exc
        if box[1] is not None:
            raise PeerFailed(f"process 0 of the job failed ({box[1]}); this one stops")
        return box[0]

    def first_then_rest(self, fn: Callable[[], T], *, first: bool) -> T:
        """Run ``fn`` on the ranks with ``first`` set, then (once they succeeded) on the rest.

        Used for the decoded-pixel cache: one process per machine builds it, the others
        then read it instead of decoding the same images again.
        """
        result = self.agree(fn if first else lambda: None)
        if not self.active:
            return result
        later = self.agree(lambda: None if first else fn())
        return result if first else later

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over the ranks."""
        if not self.active:
            return [float(v) for v in values]
        rows = self.gather([float(v) for v in values])
        return [sum(col) for col in zip(*rows, strict=True)]

    # -- the model ------------------------------------------------------------------------
    def data_group(self, device: Any) -> Any:
        """The process group gradients travel over: NCCL on CUDA, else the default group."""
        if device.type != "cuda":
            return None  # the default (gloo) group
        global _NCCL_GROUP
        if _NCCL_GROUP is None:
            import torch.distributed as dist

            _NCCL_GROUP = dist.new_group(backend="nccl", timeout=_timeout())
        return _NCCL_GROUP

    def wrap(self, model: Any, device: Any) -> Any:
        """``model`` in DistributedDataParallel (the model itself in a single process)."""
        if not self.active:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(
            model,
            device_ids=ids,
            output_device=ids[0] if ids else None,
            process_group=self.data_group(device),
        )

    def sync_batchnorm(self, model: Any, device: Any) -> Any:
        """BatchNorm layers synchronised across GPUs (CUDA only: gloo has no SyncBatchNorm)."""
        if not self.active or device.type != "cuda":
            return model
        try:
            from timm.layers import convert_sync_batchnorm  # keeps timm's BatchNormAct2d
        except ImportError:  # pragma: no cover - timm is a dependency
            from torch.nn import SyncBatchNorm

            convert_sync_batchnorm = SyncBatchNorm.convert_sync_batchnorm
        return convert_sync_batchnorm(model, process_group=self.data_group(device))

    def seed_for(self, seed: int, epoch: int) -> int:
        """The seed of this rank's own randomness (dropout) in ``epoch``: distinct per rank,
        and the same after a resume."""
        return (seed * 1_000_003 + epoch * 1009 + self.rank) % (2**63)


SINGLE = Dist()


def describe_job(dist: Dist, device: Any, batch_size: int, lr: float) -> str:
    """The line a data-parallel run starts with: processes, global batch, learning rate."""
    backend = "NCCL" if device.type == "cuda" else "gloo"
    per = batch_size / dist.world_size
    return (
        f"data-parallel: {dist.world_size} processes ({backend}, {device.type}); global batch "
        f"{batch_size} = about {per:.3g} per process; learning rate {lr:g} as given "
        "(--batch-size is the global batch, so no scaling)"
    )


@contextlib.contextmanager
def shared_file(dist: Dist, path: Any) -> Iterator[Any]:
    """A small file rank 0 reads (a split), for every rank: the others get a temporary copy,
    so they need not see rank 0's folders (other machines)."""
    if path is None or not dist.active:
        yield path
        return
    text = dist.on_main(
        lambda: Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
    )
    if dist.is_main or text is None:  # a missing file is reported by whoever reads it
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="stylecast-shared-") as tmp:
        copy = Path(tmp) / Path(path).name
        copy.write_text(text, encoding="utf-8")
        yield copy


_NCCL_GROUP: Any = None


def _timeout() -> _dt.timedelta:
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        seconds = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV} must be seconds, got {raw!r}") from None
    return _dt.timedelta(seconds=seconds)


def join() -> Dist:
    """This process's :class:`Dist`; under torchrun, joins the job's process group once.

    The default group is gloo on every device (objects and, on CPU, gradients); CUDA
    gradients get an NCCL group of their own (:meth:`Dist.data_group`).
    """
    if not under_torchrun():
        return SINGLE
    import torch.distributed as dist

    info = Dist(
        rank=int(os.environ["RANK"]),
        world_size=int(os.environ["WORLD_SIZE"]),
        local_rank=int(os.environ.get("LOCAL_RANK", "0") or 0),
    )
    if not dist.is_initialized():
        if not dist.is_available():  # pragma: no cover - every official build has it
            raise RunError("this PyTorch build has no torch.distributed: train in one process")
        dist.init_process_group(backend="gloo", timeout=_timeout())
        atexit.register(leave_job)
    return info


def leave_job(sync: bool = False) -> None:
    """Leave the job's process groups (every rank at the same point: a rank that exits while
    another still holds the connection may be aborted by gloo). ``sync``: where every rank
    calls this at the same point of a job that went well, a barrier first, so no rank tears
    its connections down while another is still working (seen: rank 0 aborted with
    "terminate called without an active exception" after rank 1 had left)."""
    global _NCCL_GROUP
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if sync:
            with contextlib.suppress(Exception):  # a peer already gone: leave anyway
                dist.barrier()
        dist.destroy_process_group()
    _NCCL_GROUP = None


# Rank 0 of a job whose other ranks wait in follower.follow_trainings(): `stylecast tune` under
# torchrun, where each trial is one data-parallel training of the whole job.
_LEADING = False


@contextlib.contextmanager
def lead_trainings() -> Iterator[Dist]:
    """On rank 0: every ``train()`` inside the block is announced to the other ranks, which
    run it with this one (:mod:`stylecast.training.follower`); they are released at the end."""
    global _LEADING
    dist = join()
    _LEADING = dist.active and dist.is_main
    try:
        yield dist
    except BaseException:
        # Leave without the release: torchrun stops the others when this process fails.
        _LEADING = False
        raise
    _LEADING = False
    dist.broadcast(("done", None))
    leave_job(sync=True)


def announce_training(dist: Dist, call: dict[str, Any]) -> None:
    """Called by ``train()`` on rank 0: the other ranks learn what to train with it."""
    if _LEADING and dist.active and dist.is_main:
        dist.broadcast(("train", call))


def launch_processes(nproc: int, argv: Sequence[str]) -> int:
    """Run ``stylecast ARGV`` as ``nproc`` processes on this machine (torchrun, standalone
    rendezvous on a free port); returns the job's exit code."""
    if nproc < 1:
        raise ConfigError(f"--nproc must be at least 1, got {nproc}")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "stylecast",
        *argv,
    ]
    print(
        f"starting {nproc} processes: torchrun --standalone --nproc_per_node={nproc} "
        f"-m stylecast {' '.join(argv)}",
        file=sys.stderr,
        flush=True,
    )
    return subprocess.call(cmd)
