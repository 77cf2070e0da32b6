"""Training speed on a CPU: stylecast's engine against a plain PyTorch reference loop.

(a) full fine-tune images/s: stylecast (decoded-pixel cache, tensor augmentation,
    channels_last), in fp32 and in bf16 autocast, each also as a share of the CPU's peak,
    against a plain loop (timm model + torchvision ImageFolder + PIL transforms +
    DataLoader with 2 workers, fp32), same model, batch size and input size, over the same
    training images; and which of the two ``--precision auto`` trains in here.
(b) ``head`` mode end to end with its features already cached (discover, load the
    model, train the head, save the run) against one fine-tune epoch of the same data.

(c) ``--matrix``: training steps of EfficientNet-Lite0 at ``--img-size`` on random batches in
    every combination of fp32/bf16 autocast, contiguous/channels_last and eager/torch.compile
    (inductor), as images/s and as a share of the CPU's peak, the peak being the best fp32 and
    bf16 matrix-multiply throughput measured in the same run (a training step costs about
    three forward passes of multiply-adds).

Usage:  python benchmarks/train_speed.py [--data ../shared/data/fpi-season] [--img-size 224]
        [--batch-size 32] [--plain-images 640] [--matrix] [--matrix-only]
Targets: (a) >= 2x, (b) >= 20x. Prints the figures and ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from stylecast import TrainConfig, train  # noqa: E402
from stylecast.data import discover  # noqa: E402
from stylecast.models import create_model  # noqa: E402
from stylecast.training import amp_dtype  # noqa: E402


def plain_loop_images_per_s(
    paths: list[str], labels: list[int], img_size: int, batch: int
) -> float:
    """The loop a tutorial writes: ImageFolder-style dataset, PIL transforms, DataLoader."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    tf = transforms.Compose(
        [
            transforms.RandomResizedCrop(img_size, scale=(0.7, 1.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([0.5] * 3, [0.5] * 3),
        ]
    )

    class Folder(Dataset):
        def __len__(self) -> int:
            return len(paths)

        def __getitem__(self, i: int):
            return tf(Image.open(paths[i]).convert("RGB")), labels[i]

    loader = DataLoader(Folder(), batch_size=batch, shuffle=True, num_workers=2, drop_last=True)
    model = create_model("efficientnet_lite0", 2).train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=5e-4)
    seen, t0 = 0, time.perf_counter()
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(x)
    return seen / (time.perf_counter() - t0)


def peak_macs_per_s(dtype: torch.dtype, n: int = 2048, reps: int = 8) -> float:
    """Multiply-adds per second of a large matrix product: what this CPU can do at best."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    return reps * n**3 / (time.perf_counter() - t0)


def _steps(model, opt, batch: tuple, bf16: bool, n: int) -> None:  # noqa: ANN001
    x, y = batch
    for _ in range(n):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = torch.nn.functional.cross_entropy(out.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def forward_macs(img_size: int) -> int:
    """Multiply-adds of one forward pass of EfficientNet-Lite0 on one image."""
    from torchinfo import summary

    model0 = create_model("efficientnet_lite0", 2)
    return summary(model0, input_size=(1, 3, img_size, img_size), verbose=0).total_mult_adds


def peaks() -> dict[str, float]:
    return {"fp32": peak_macs_per_s(torch.float32), "bf16": peak_macs_per_s(torch.bfloat16)}


def step_matrix(img_size: int, batch: int, steps: int = 6) -> list[str]:
    """Images/s of training steps for each precision x layout x compile combination."""
    macs = forward_macs(img_size)
    peaks_ = peaks()
    lines = [
        f"(c) training steps at {img_size}px, batch {batch}: {macs / 1e9:.3f} G multiply-adds "
        f"per image forward (x3 per training image); peak matmul fp32 "
        f"{peaks_['fp32'] / 1e9:.0f}, bf16 {peaks_['bf16'] / 1e9:.0f} G MAC/s"
    ]
    for compiled in (False, True):
        for layout in ("contiguous", "channels_last"):
            for prec in ("fp32", "bf16"):
                torch.manual_seed(0)
                model = create_model("efficientnet_lite0", 2).train()
                fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
                model = model.to(memory_format=fmt)
                run = torch.compile(model) if compiled else model
                opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
                x = torch.randn(batch, 3, img_size, img_size).contiguous(memory_format=fmt)
                y = torch.randint(0, 2, (batch,))

                t_compile = time.perf_counter()
                _steps(run, opt, (x, y), prec == "bf16", 2)  # compile or warm the allocator
                t_compile = time.perf_counter() - t_compile
                t0 = time.perf_counter()
                _steps(run, opt, (x, y), prec == "bf16", steps)
                ips = steps * batch / (time.perf_counter() - t0)
                share = ips * 3 * macs / peaks_[prec]
                lines.append(
                    f"    {'compile' if compiled else 'eager':<7} {layout:<13} {prec}: "
                    f"{ips:6.1f} img/s  {100 * share:5.1f}% of {prec} peak"
                    + (f"  (first 2 steps {t_compile:.0f} s)" if compiled else "")
                )
                print(lines[-1], flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-season"))
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--plain-images", type=int, default=640, help="images timed in the plain loop")
    ap.add_argument(
        "--write-doc", action="store_true", help="write the figures into docs/benchmarks.md"
    )
    ap.add_argument("--matrix", action="store_true", help="also run (c), the step matrix")
    ap.add_argument("--matrix-only", action="store_true", help="run only (c)")
    args = ap.parse_args()
    if args.matrix_only:
        lines = step_matrix(args.img_size, args.batch_size)
        if args.write_doc:
            from _doc import write_section

            body = "Command: `python benchmarks/train_speed.py --matrix-only --img-size "
            body += f"{args.img_size} --write-doc`.\n\n```\n" + "\n".join(lines) + "\n```"
            print(f"wrote {write_section('Training step matrix', body)}")
        return
    if not Path(args.data).exists():
        sys.exit(f"error: {args.data} does not exist (this benchmark needs ../shared/data)")
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"machine: {machine}")
    common = dict(
        img_size=args.img_size, batch_size=args.batch_size, group_column="group", patience=0, seed=0
    )
    with tempfile.TemporaryDirectory() as tmp:
        # Head mode, twice: the first run fills the feature cache, the second is what we time.
        train(args.data, TrainConfig(mode="head", **common), Path(tmp) / "h0", progress=False)
        t0 = time.perf_counter()
        train(args.data, TrainConfig(mode="head", **common), Path(tmp) / "h1", progress=False)
        head_s = time.perf_counter() - t0

        ours, epoch_s = {}, {}
        for prec in ("fp32", "bf16"):
            ft = train(
                args.data,
                TrainConfig(mode="finetune", epochs=1, precision=prec, **common),
                Path(tmp) / f"ft-{prec}",
                progress=False,
            )
            ours[prec], epoch_s[prec] = ft.history[0]["images_per_s"], ft.history[0]["seconds"]

        ds = discover(args.data)
        rng = np.random.default_rng(0)
        pick = rng.choice(len(ds.table), size=min(args.plain_images, len(ds.table)), replace=False)
        paths = ds.table["path"].to_numpy()[pick].tolist()
        labels = [ds.classes.index(lbl) for lbl in ds.table["label"].to_numpy()[pick]]
        plain_ips = plain_loop_images_per_s(paths, labels, args.img_size, args.batch_size)

    macs, peak = forward_macs(args.img_size), peaks()
    auto = "bf16" if amp_dtype(torch.device("cpu"), "auto", training=True) else "fp32"
    chosen = ours[auto]

    def share(prec: str) -> str:
        return f"{100 * ours[prec] * 3 * macs / peak[prec]:4.1f}% of {prec} peak"

    lines = [
        f"(a) full fine-tune at {args.img_size}px, batch {args.batch_size} "
        f"({macs / 1e9:.3f} G multiply-adds per image forward, x3 per training image; peak "
        f"matmul fp32 {peak['fp32'] / 1e9:.0f}, bf16 {peak['bf16'] / 1e9:.0f} G MAC/s)",
        f"    plain loop (ImageFolder + PIL + DataLoader x2, fp32): {plain_ips:7.1f} img/s",
        f"    stylecast finetune fp32 (cached, channels_last):     {ours['fp32']:7.1f} img/s"
        f"  {share('fp32')}",
        f"    stylecast finetune bf16 autocast:                    {ours['bf16']:7.1f} img/s"
        f"  {share('bf16')}",
        f"    --precision auto trains in {auto} here: {chosen / plain_ips:.2f}x the plain loop"
        "  (target >= 2x)",
        "(b) head mode end to end, features cached, vs one fine-tune epoch",
        f"    one fine-tune epoch (train + validation): {epoch_s[auto]:7.1f} s",
        f"    head mode, whole run:                     {head_s:7.1f} s",
        f"    ratio: {epoch_s[auto] / head_s:.1f}x  (target >= 20x)",
    ]
    if args.matrix:
        lines += step_matrix(args.img_size, args.batch_size)
    print("\n".join(lines))
    if args.write_doc:
        from _doc import write_section

        shown = " ".join(a for a in sys.argv[1:] if a != "--write-doc")
        body = f"Command: `python benchmarks/train_speed.py {shown} --write-doc` on {machine}."
        body += "\n\n```\n"
        body += "\n".join(lines) + "\n```"
        title = (
            "Training speed" if args.img_size == 224 else f"Training speed at {args.img_size} px"
        )
        print(f"wrote {write_section(title, body)}")


if __name__ == "__main__":
    main()
