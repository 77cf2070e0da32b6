"""Epoch wall time: stylecast's decoded-image cache against torchvision's ImageFolder pipeline.

    python benchmarks/data_pipeline.py [--data ../shared/data/fpi-season] [--img-size 224]
                                       [--batch-size 32] [--workers 2] [--epochs 3]
                                       [--full-size 1200x1600 --limit 600] [--write-doc]

Both pipelines produce the same thing per step: a normalised float batch
(B, 3, S, S), randomly crop-resized (scale 0.7-1.0) and flipped.

* cached: ``prepare_images`` decodes, orients and letterboxes every image once into a
  memory-mapped ``.npy`` (epoch 1 pays for that, in a fresh cache folder); every epoch
  then indexes shuffled batches out of the memmap and runs ``to_input`` +
  ``augment_batch`` (stylecast.training.tensors), in this process with ``--workers`` torch threads.
* baseline: ``torchvision.datasets.ImageFolder`` with Resize(S) + RandomResizedCrop(S) +
  RandomHorizontalFlip + ToTensor + Normalize, through a ``DataLoader`` with the same batch
  size, ``--workers`` worker processes (persistent, so their start-up counts once).

The ratio is baseline / cached epoch time from the second epoch on. Results go to
stdout; ``--write-doc`` also writes them into docs/benchmarks.md ("Data pipeline").

``--full-size WxH`` first writes a temporary copy of the data (``--limit`` images, spread
over the classes) as JPEGs of W x H pixels (quality 90), upscaled from the thumbnails:
the size of a photo from a camera or a brand's catalogue, where decoding once matters most.
Its section is "Data pipeline, full-size photos".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def machine_info() -> str:
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    import PIL
    import torchvision

    return (
        f"machine: {cpu}; {cores} cores ({usable} usable), load average {load:.1f}; "
        f"{platform.system()} {platform.release()}\n"
        f"python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.backends.cpu.get_cpu_capability()}), torchvision {torchvision.__version__}, "
        f"Pillow {PIL.__version__}"
    )


def full_size_copy(data: Path, dst: Path, size: tuple[int, int], limit: int) -> int:
    """Copy up to ``limit`` images of ``data`` (class folders) into ``dst`` as ``size`` JPEGs."""
    from PIL import Image

    classes = sorted(d for d in data.iterdir() if d.is_dir())
    per_class = max(1, limit // max(1, len(classes)))
    n = 0
    for folder in classes:
        (dst / folder.name).mkdir(parents=True, exist_ok=True)
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
        for f in files[:per_class]:
            with Image.open(f) as im:
                big = im.convert("RGB").resize(size, Image.Resampling.BICUBIC)
            big.save(dst / folder.name / (f.stem + ".jpg"), quality=90)
            n += 1
    return n


def cached_epochs(
    data: Path, size: int, batch: int, epochs: int, threads: int, cache_dir: Path
) -> tuple[list[float], float, int]:
    """Epoch times of the cached pipeline; epoch 1 includes building the cache."""
    from stylecast.data import ImageCache, discover, prepare_images
    from stylecast.training import augment_batch, iterate_batches, to_input

    torch.set_num_threads(threads)
    fill = (1.0 - MEAN[0]) / STD[0]
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    times: list[float] = []
    build = 0.0
    n = 0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        if epoch == 0:
            table = discover(data).table
            prepared = prepare_images(table, size, cache=ImageCache(cache_dir), progress=False)
            build = time.perf_counter() - t0
            pixels = prepared.pixels
            n = len(pixels)
        for idx in iterate_batches(np.arange(n), batch, shuffle=True, rng=rng):
            x = to_input(pixels[np.sort(idx)], MEAN, STD)
            x = augment_batch(x, gen, fill=fill)
        times.append(time.perf_counter() - t0)
    return times, build, n


def baseline_epochs(
    data: Path, size: int, batch: int, epochs: int, workers: int
) -> tuple[list[float], int]:
    from torch.utils.data import DataLoader
    from torchvision import datasets
    from torchvision import transforms as T

    tf = T.Compose(
        [
            T.Resize(size),
            T.RandomResizedCrop(size, scale=(0.7, 1.0)),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ]
    )
    ds = datasets.ImageFolder(str(data), transform=tf)
    loader = DataLoader(
        ds,
        batch_size=batch,
        shuffle=True,
        num_workers=workers,
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(0),
    )
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for x, _y in loader:
            assert x.shape[1:] == (3, size, size)  # the same tensors as the cached pipeline
        times.append(time.perf_counter() - t0)
    return times, len(ds)


NOTES = """\
Reading it: epoch 1 of the cached pipeline includes building the cache (hashing, parallel
decoding, letterboxing, writing the memmap) once; later epochs, runs, tuning trials and
`evaluate` reuse it without decoding. fpi-season's 60x80 thumbnails decode in about 0.1 ms,
so the cache saves the baseline little per epoch; what remains is the per-batch float work
in `stylecast/training/tensors.py` (one fused normalising pass in `to_input`, then `grid_sample` for
the crop and flip in `augment_batch`) at 224x224, while the baseline crops and flips the small
PIL image before resizing it. Full-size photos also cost the baseline their JPEG decoding and
resizing every epoch ("Data pipeline, full-size photos"). A shared machine inflates both
pipelines' times; the ratio from the same run is the figure to compare."""

FULL_SIZE_NOTES = """\
Reading it: here every baseline epoch decodes each full-size JPEG again and resizes it,
while the cached pipeline decodes once (epoch 1) and later epochs read the small letterboxed
pixels from the memmap. Even the first epoch is faster: a JPEG whose short side is at least
1,024 px is decoded at a reduced scale by libjpeg (1200x1600 as 600x800; both sides stay at
least 512 px, see `DRAFT_SIDE` in `stylecast/data/decode.py`). This is the case of a brand's
own catalogue or camera photos."""


def doc_body(lines: list[str], argv: list[str], full_size: bool = False) -> str:
    """The docs/benchmarks.md section: what is compared, the command, the printed figures."""
    command = " ".join([".venv/bin/python benchmarks/data_pipeline.py", *argv])
    what = (
        "JPEGs of full photo size made from fpi-season's thumbnails (first line of the output)"
        if full_size
        else "`../shared/data/fpi-season` (3,582 JPEG thumbnails, 60x80)"
    )
    intro = (
        f"Epoch wall time over {what}: "
        "stylecast's cached pipeline (decode + orient + letterbox once into a memory-mapped "
        "`uint8` `.npy`, then per epoch shuffled batches from the memmap through `to_input` + "
        "`augment_batch`, with as many torch threads as the baseline has workers) against "
        "torchvision's `ImageFolder` + `Resize` / `RandomResizedCrop(scale=(0.7, 1))` / "
        "`RandomHorizontalFlip` / `ToTensor` / `Normalize` through a `DataLoader` with "
        "persistent workers. Both produce the same normalised float batches."
    )
    out = "\n".join(lines)
    notes = FULL_SIZE_NOTES if full_size else NOTES
    return f"{intro}\n\n```sh\n{command}\n```\n\n```text\n{out}\n```\n\n{notes}\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fpi-season")
    p.add_argument("--img-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers = torch threads")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument(
        "--cache",
        type=Path,
        help="cache folder (default: a fresh temporary one, so epoch 1 builds)",
    )
    p.add_argument(
        "--full-size",
        metavar="WxH",
        help="time JPEGs of this size made from the thumbnails (e.g. 1200x1600)",
    )
    p.add_argument("--limit", type=int, default=600, help="images in the --full-size copy")
    p.add_argument(
        "--write-doc", action="store_true", help="also write the section in docs/benchmarks.md"
    )
    args = p.parse_args(argv)
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.extend(text.splitlines())

    if not args.data.is_dir():
        print(f"error: {args.data} is not a folder of class folders", file=sys.stderr)
        return 1
    if args.epochs < 2:
        print("error: --epochs must be at least 2 (epoch 1 builds the cache)", file=sys.stderr)
        return 1
    say(machine_info())
    with tempfile.TemporaryDirectory(prefix="stylecast-bench-") as tmp:
        data = args.data
        if args.full_size:
            try:
                w, h = (int(v) for v in args.full_size.lower().split("x"))
            except ValueError:
                print(f"error: --full-size takes WxH, got {args.full_size!r}", file=sys.stderr)
                return 1
            data = Path(tmp) / "full-size"
            t0 = time.perf_counter()
            made = full_size_copy(args.data, data, (w, h), args.limit)
            say(
                f"full-size copy: {made} JPEGs of {w}x{h} (quality 90) made from {args.data} "
                f"in {time.perf_counter() - t0:.1f}s"
            )
        say(
            f"data: {data} at {args.img_size} px, batch {args.batch_size}, "
            f"{args.workers} workers/threads, {args.epochs} epochs"
        )
        cache_dir = args.cache or Path(tmp) / "cache"
        cached, build, n = cached_epochs(
            data, args.img_size, args.batch_size, args.epochs, args.workers, cache_dir
        )
        base, n_base = baseline_epochs(
            data, args.img_size, args.batch_size, args.epochs, args.workers
        )
    fmt = ", ".join
    say(f"images: {n} (cached) / {n_base} (ImageFolder)")
    say(
        f"cached pipeline   epochs: {fmt(f'{t:.2f}s' for t in cached)}  "
        f"(epoch 1 includes {build:.2f}s to decode and cache {n} images)"
    )
    say(f"torchvision+PIL   epochs: {fmt(f'{t:.2f}s' for t in base)}")
    c, b = statistics.mean(cached[1:]), statistics.mean(base[1:])
    say(
        f"from epoch 2 on: cached {c:.2f}s ({n / c:.0f} img/s) vs baseline {b:.2f}s "
        f"({n_base / b:.0f} img/s): {b / c:.2f}x faster"
    )
    say(f"first epoch: cached {cached[0]:.2f}s vs baseline {base[0]:.2f}s")
    if args.write_doc:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _doc import write_section

        shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-doc"]
        title = "Data pipeline, full-size photos" if args.full_size else "Data pipeline"
        print(f"wrote {write_section(title, doc_body(lines, shown, bool(args.full_size)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
