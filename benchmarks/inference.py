"""Inference speed on a CPU: PyTorch eager, channels_last + bf16, ONNX Runtime fp32 and int8.

For EfficientNet-Lite0 (ImageNet weights with a 2-class head, or a run's model with
``--run``) at each ``--sizes`` (128 and 224 px): images/s at batch 1 and at ``--batch``
(32), and the p50/p95 latency of one image, for

- ``eager fp32``: what stylecast's torch path did before (contiguous NCHW, fp32);
- ``channels_last bf16``: channels_last memory and bf16 autocast (where the CPU has bf16);
- ``onnxruntime fp32`` and ``onnxruntime int8``: the graphs ``stylecast export`` writes
  (static per-channel QDQ int8, calibrated on letterboxed lookbook or training images).

Every backend takes the same input, letterboxed uint8 NHWC pixels, and returns logits, so
the normalisation is timed too. Each figure is also given as a share of the CPU's peak:
images/s x the model's multiply-adds per image (torchinfo) / the fp32 multiply-adds per
second of a large matrix product measured in the same run (bf16 rows also against the
bf16 peak). Targets: the best backend at batch 32 reaches >= 35% of the fp32 peak and >= 3x
eager fp32.

Usage:  python benchmarks/inference.py [--run RUN] [--sizes 128 224] [--batch 32]
        [--repeats 20] [--write-doc]
Prints the figures and the ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require, write_section  # noqa: E402
from train_speed import peak_macs_per_s  # noqa: E402

from stylecast.export import (  # noqa: E402
    OnnxLogits,
    export_onnx,
    exportable_copy,
    quantize_int8,
    usable_cores,
)
from stylecast.run import ModelInfo, Preprocessing  # noqa: E402
from stylecast.training import amp_dtype, to_input  # noqa: E402

Infer = Callable[[np.ndarray], np.ndarray]


def cpu_has_fast_bf16() -> bool:
    """Whether autocast picks bf16 on this CPU (oneDNN's bf16 kernels: AVX512-BF16 or AMX)."""
    return amp_dtype(torch.device("cpu"), "auto") is not None


METHOD = """\
Every backend takes letterboxed uint8 NHWC pixels and returns logits (the normalisation is
timed too): `eager fp32` is the torch path as it was (contiguous NCHW), `channels_last bf16`
adds channels_last memory and bf16 autocast, `onnxruntime fp32` / `int8` are the graphs
`stylecast export` writes (int8: static per-channel QDQ, calibrated on lookbook images). "of
peak" is images/s x the model's multiply-adds per image (torchinfo) / the fp32 multiply-adds
per second of a 2048x2048 matrix product measured in the same run. That product (torch's
sgemm) is a lower bound of the CPU's peak, not the peak itself: ONNX Runtime's convolution
kernels outrun it on this machine, so a share slightly above 100% means "at the measured
limit" (the multiply-adds count only convolutions and the classifier: BatchNorm is folded).
A busy machine (see the load average) lowers every figure; the ratios from the same run are
the ones to compare.\
"""


def _model(run: str | None) -> tuple[torch.nn.Module, ModelInfo]:
    from stylecast.models import create_model, load_model, preprocessing_for

    if run:
        return load_model(run)
    info = ModelInfo(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        classes=("FallWinter", "SpringSummer"),
        preprocessing=preprocessing_for("efficientnet_lite0", 224),
    )
    return create_model("efficientnet_lite0", num_classes=2).eval(), info


def _calibration(run: str | None, prep: Preprocessing, tmp: Path, n: int = 64) -> np.ndarray:
    """Letterboxed images for the int8 ranges: the run's training images, or a lookbook."""
    from stylecast.data import discover, letterbox, load_image

    if run:
        from stylecast.run import RunFolder

        folder = RunFolder(run)
        rows = folder.splits()
        rows = rows[rows["split"] == "train"].head(n)
        paths = [folder.image_root() / p for p in rows["path"]]
    else:
        from stylecast.demo import make_lookbook

        make_lookbook(tmp / "lookbook", n // 2, seed=0, image_size=(120, 160))
        paths = [Path(p) for p in discover(tmp / "lookbook").table["path"]]
    return np.stack([letterbox(load_image(p), prep.img_size, prep.fill) for p in paths])


def _torch_backend(model: torch.nn.Module, prep: Preprocessing, fast: bool) -> Infer:
    import copy

    fmt = torch.channels_last if fast else torch.contiguous_format
    net = copy.deepcopy(model).to(memory_format=fmt).eval()
    bf16 = fast and cpu_has_fast_bf16()

    def infer(pixels: np.ndarray) -> np.ndarray:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            x = to_input(pixels, prep.mean, prep.std).contiguous(memory_format=fmt)
            return net(x).float().numpy()

    return infer


def _time(infer: Infer, pixels: np.ndarray, repeats: int) -> list[float]:
    infer(pixels)  # first call: allocator, oneDNN primitives, ORT's arena
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        infer(pixels)
        times.append(time.perf_counter() - t0)
    return times


def measure_size(args: argparse.Namespace, size: int, peaks: dict[str, float]) -> list[str]:
    """One table block: every backend at ``size`` px."""
    from dataclasses import replace

    from torchinfo import summary

    model, info = _model(args.run)
    prep = replace(info.preprocessing, img_size=size)
    info = replace(info, preprocessing=prep)
    macs = summary(model, input_size=(1, 3, size, size), verbose=0).total_mult_adds
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (args.batch, size, size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory(prefix="stylecast-bench-") as tmp_name:
        tmp = Path(tmp_name)
        fp32 = tmp / "model.onnx"
        export_onnx(exportable_copy(model, info.timm_name, len(info.classes)), prep, fp32)
        int8 = tmp / "model.int8.onnx"
        quantize_int8(fp32, int8, _calibration(args.run, prep, tmp))
        backends: dict[str, Infer] = {
            "eager fp32": _torch_backend(model, prep, fast=False),
            "channels_last bf16": _torch_backend(model, prep, fast=True),
            "onnxruntime fp32": OnnxLogits(fp32, info).logits,
            "onnxruntime int8": OnnxLogits(int8, info).logits,
        }
        rows, ips32 = [], {}
        for name, infer in backends.items():
            big = _time(infer, batch, max(2, args.repeats // 4))
            one = np.array(_time(infer, batch[:1], args.repeats))
            ips32[name] = args.batch * len(big) / sum(big)
            share = ips32[name] * macs / peaks["fp32"]
            own = ""
            if "bf16" in name and cpu_has_fast_bf16():
                own = f"  ({100 * ips32[name] * macs / peaks['bf16']:.1f}% of bf16 peak)"
            rows.append(
                f"  {name:<20} {ips32[name]:9.1f} {100 * share:8.1f}%  {1 / one.mean():9.1f}  "
                f"{1e3 * np.percentile(one, 50):8.1f}  {1e3 * np.percentile(one, 95):8.1f}{own}"
            )
            print(rows[-1], flush=True)
    best = max(ips32, key=ips32.get)
    share = ips32[best] * macs / peaks["fp32"]
    ratio = ips32[best] / ips32["eager fp32"]
    head = [
        f"{size} px ({macs / 1e9:.3f} G multiply-adds per image), batch {args.batch} and 1:",
        f"  {'backend':<20} {'b' + str(args.batch) + ' img/s':>9} {'of peak':>9}  "
        f"{'b1 img/s':>9}  {'p50 ms':>8}  {'p95 ms':>8}",
    ]
    tail = [
        f"  best at batch {args.batch}: {best}, {ips32[best]:.1f} img/s = {100 * share:.1f}% of "
        f"the fp32 peak (target >= 35%), {ratio:.2f}x eager fp32 (target >= 3x)"
    ]
    print(tail[0], flush=True)
    return head + rows + tail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="a trained run folder (default: ImageNet weights, 2 classes)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 224])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=20, help="timed batch-1 calls per backend")
    ap.add_argument("--write-doc", action="store_true", help="write docs/benchmarks.md")
    args = ap.parse_args()
    if args.run:
        require(args.run)
    machine = machine_line()
    threads = usable_cores()
    torch.set_num_threads(threads)
    peaks = {"fp32": peak_macs_per_s(torch.float32), "bf16": peak_macs_per_s(torch.bfloat16)}
    what = f"the model of {args.run}" if args.run else "EfficientNet-Lite0, ImageNet weights"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    lines = [
        f"{what}; {threads} threads (torch and ONNX Runtime); load average {load}; bf16 kernels: "
        f"{'yes' if cpu_has_fast_bf16() else 'no'}; peak matmul fp32 "
        f"{peaks['fp32'] / 1e9:.0f}, bf16 {peaks['bf16'] / 1e9:.0f} G MAC/s; "
        f"batch-32 rounds {max(2, args.repeats // 4)}, batch-1 calls {args.repeats}",
    ]
    print(lines[0], flush=True)
    for size in args.sizes:
        lines += measure_size(args, size, peaks)
    if args.write_doc:
        command = "python benchmarks/inference.py" + (f" --run {args.run}" if args.run else "")
        if args.repeats != 20:
            command += f" --repeats {args.repeats}"
        body = f"Command: `{command} --write-doc` on {machine}.\n\n{METHOD}\n\n```text\n"
        body += "\n".join(lines) + "\n```"
        print(f"wrote {write_section('Inference', body)}")


if __name__ == "__main__":
    main()
