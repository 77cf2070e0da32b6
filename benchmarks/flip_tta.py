"""Horizontal-flip test-time augmentation on a trained run: accuracy with and without it.

Scores RUN's validation or test split twice with the same weights: the logits of each image,
and the mean of the logits of the image and its mirror image; McNemar compares the two.

Usage:  python benchmarks/flip_tta.py RUN [--split val|test]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require  # noqa: E402

from stylecast.data import letterbox, load_image  # noqa: E402
from stylecast.evaluation import mcnemar_test  # noqa: E402
from stylecast.inference import Predictor  # noqa: E402
from stylecast.run import RunFolder  # noqa: E402
from stylecast.training import to_input  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="a trained run folder")
    ap.add_argument("--split", default="val", choices=["val", "test"])
    args = ap.parse_args()
    require(args.run)
    machine_line()
    run = RunFolder(args.run)
    p = Predictor.from_run(run)
    rows = run.splits()
    rows = rows[rows.split == args.split]
    root = run.image_root()
    size, fill = p.prep.img_size, p.prep.fill
    pix = np.stack([letterbox(load_image(root / f), size, fill) for f in rows.path])
    y = np.array([p.classes_.index(c) for c in rows.label])
    plain, flipped = [], []
    with torch.inference_mode():
        for s in range(0, len(pix), 64):
            x = to_input(pix[s : s + 64], p.prep.mean, p.prep.std, "cpu")
            a, b = p.model(x), p.model(x.flip(-1))
            plain.append(a.numpy())
            flipped.append(((a + b) / 2).numpy())
    a = np.concatenate(plain).argmax(1) == y
    b = np.concatenate(flipped).argmax(1) == y
    test = mcnemar_test(a, b)
    print(
        f"{args.split}: {len(y)} images  plain {a.mean():.4f}  flip TTA {b.mean():.4f}  "
        f"McNemar p {test['pvalue']:.3f} (plain-only right {test['b']}, flip-only right "
        f"{test['c']})"
    )


if __name__ == "__main__":
    main()
