"""GPU check: EfficientNet-Lite0 at 224 px on this machine's CUDA GPU, training and inference.

For every variant (fp32; AMP in bf16, or fp16 with a GradScaler where the GPU lacks bf16;
contiguous or channels_last memory; eager or torch.compile) it prints images/s of

* training steps (forward, loss, backward, AdamW step) on random batches, and
* inference (``torch.inference_mode``) on random batches,

and each as a share of the GPU's peak: multiply-adds per image (torchinfo; a training step
costs about three forward passes) times images/s, over the best matrix-multiply throughput
of the same precision measured in the same run (fp32 with TF32 off, as the training runs).

On a machine without CUDA it prints one line saying so and exits 0.

Usage:  python benchmarks/gpu_check.py [--batch-size 128] [--infer-batch 256] [--steps 20]
        [--no-compile] [--write-doc]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

IMG = 224


def peak_macs_per_s(dtype: torch.dtype, n: int = 8192, reps: int = 20) -> float:
    """Multiply-adds per second of a large matrix product: what this GPU can do at best."""
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        torch.mm(a, b)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    torch.cuda.synchronize()
    return reps * n**3 / (time.perf_counter() - t0)


def macs_per_image() -> float:
    """Multiply-adds of one forward pass of EfficientNet-Lite0 at 224 px."""
    from torchinfo import summary

    from stylecast.models import create_model

    model = create_model("efficientnet_lite0", 2, pretrained=False)
    return float(summary(model, input_size=(1, 3, IMG, IMG), verbose=0).total_mult_adds)


def _autocast(dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """AMP in ``dtype``, or nothing for fp32."""
    return contextlib.nullcontext() if dtype is None else torch.autocast("cuda", dtype=dtype)


def _model(layout: torch.memory_format) -> torch.nn.Module:
    from stylecast.models import create_model

    torch.manual_seed(0)
    return create_model("efficientnet_lite0", 2, pretrained=False).cuda().to(memory_format=layout)


def train_ips(
    dtype: torch.dtype | None,
    layout: torch.memory_format,
    *,
    compiled: bool,
    batch: int,
    steps: int,
) -> tuple[float, float]:
    """(images/s, seconds of the first two steps) of training steps."""
    model = _model(layout).train()
    run = torch.compile(model) if compiled else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    x = torch.randn(batch, 3, IMG, IMG, device="cuda").contiguous(memory_format=layout)
    y = torch.randint(0, 2, (batch,), device="cuda")

    def step(n: int) -> None:
        for _ in range(n):
            with _autocast(dtype):
                out = run(x)
            loss = torch.nn.functional.cross_entropy(out.float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    t0 = time.perf_counter()
    step(2)  # compile, cuDNN autotuning, the allocator
    torch.cuda.synchronize()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    step(steps)
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0), first


@torch.inference_mode()
def infer_ips(
    dtype: torch.dtype | None,
    layout: torch.memory_format,
    *,
    compiled: bool,
    batch: int,
    steps: int,
) -> tuple[float, float]:
    """(images/s, seconds of the first two batches) of inference."""
    model = _model(layout).eval()
    run = torch.compile(model) if compiled else model
    x = torch.randn(batch, 3, IMG, IMG, device="cuda").contiguous(memory_format=layout)

    def go(n: int) -> None:
        for _ in range(n):
            with _autocast(dtype):
                run(x)

    t0 = time.perf_counter()
    go(2)
    torch.cuda.synchronize()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    go(steps)
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0), first


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=128, help="training batch (default 128)")
    ap.add_argument("--infer-batch", type=int, default=256, help="inference batch (default 256)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per variant (default 20)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile variants")
    ap.add_argument("--write-doc", action="store_true", help="write into docs/benchmarks.md")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(f"gpu_check: no CUDA GPU here (torch {torch.__version__}); nothing to measure")
        return 0
    # fp32 means fp32 here, as in stylecast's training (TF32 would be a third precision).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    props = torch.cuda.get_device_properties(0)
    amp = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    amp_name = "bf16" if amp == torch.bfloat16 else "fp16+scaler"
    macs = macs_per_image()
    peaks = {"fp32": peak_macs_per_s(torch.float32), amp_name: peak_macs_per_s(amp)}
    lines = [
        f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, "
        f"CUDA {torch.version.cuda}",
        f"EfficientNet-Lite0 at {IMG} px: {macs / 1e9:.3f} G multiply-adds per image forward "
        f"(x3 per training image); peak matmul fp32 {peaks['fp32'] / 1e12:.1f}, {amp_name} "
        f"{peaks[amp_name] / 1e12:.1f} T MAC/s (measured now)",
        f"training batch {args.batch_size}, inference batch {args.infer_batch}, "
        f"{args.steps} timed steps each",
        "",
        f"{'variant':<34} {'train img/s':>11} {'% peak':>7} {'infer img/s':>12} {'% peak':>7}",
    ]
    print("\n".join(lines), flush=True)
    variants = [
        ("fp32", None, torch.contiguous_format, False),
        ("fp32", None, torch.channels_last, False),
        (amp_name, amp, torch.contiguous_format, False),
        (amp_name, amp, torch.channels_last, False),
    ]
    if not args.no_compile:
        variants.append((amp_name, amp, torch.channels_last, True))
    for name, dtype, layout, compiled in variants:
        lay = "channels_last" if layout == torch.channels_last else "contiguous"
        label = f"{name} {lay} {'compile' if compiled else 'eager'}"
        kw = dict(compiled=compiled, steps=args.steps)
        t_ips, t_first = train_ips(dtype, layout, batch=args.batch_size, **kw)
        i_ips, i_first = infer_ips(dtype, layout, batch=args.infer_batch, **kw)
        line = (
            f"{label:<34} {t_ips:11.0f} {100 * t_ips * 3 * macs / peaks[name]:6.1f}% "
            f"{i_ips:12.0f} {100 * i_ips * macs / peaks[name]:6.1f}%"
        )
        if compiled:
            line += f"  (first 2 steps: train {t_first:.0f} s, infer {i_first:.0f} s)"
        lines.append(line)
        print(line, flush=True)
        torch.cuda.empty_cache()
    if args.write_doc:
        from _doc import write_section

        body = "Command: `python benchmarks/gpu_check.py --write-doc`.\n\n```\n"
        body += "\n".join(lines) + "\n```"
        print(f"wrote {write_section('GPU check', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
