"""The talk's four-season experiment: Spring, Summer, Fall and Winter as four classes.

Trains ``stylecast train``'s defaults on ../shared/data/fpi-trends (four season folders,
2010-2017, split by product group), evaluates once on its test split and prints accuracy,
balanced accuracy (the classes are far from balanced: Spring is rare), the majority-class
baseline, the confusion matrix and the most confused pairs. The talk saw about 50% with four
seasons because SpringSummer and FallWinter look alike.

Usage:  python benchmarks/four_seasons.py [--data DIR] [--write-doc]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require  # noqa: E402

from stylecast import TrainConfig, evaluate, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "fpi-trends"))
    ap.add_argument("--write-doc", action="store_true", help="write into docs/benchmarks.md")
    args = ap.parse_args()
    require(args.data)
    machine = machine_line()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = train(args.data, TrainConfig(group_column="group"), Path(tmp) / "run", progress=False)
        ev = evaluate(res.run_dir, progress=False)
        seconds = time.perf_counter() - t0
    m, h = ev.metrics, ev.headline
    classes = list(m["class_names"])
    cm = np.asarray(m["confusion_matrix"])
    support = cm.sum(1)
    majority = support.max() / support.sum()
    pairs = sorted(
        (
            (int(cm[i, j]), classes[i], classes[j])
            for i in range(len(classes))
            for j in range(len(classes))
            if i != j
        ),
        reverse=True,
    )
    lines = [
        f"test images {h.n}, classes {', '.join(f'{c} {n}' for c, n in zip(classes, support))}",
        f"accuracy {h.accuracy:.3f} (95% CI {h.accuracy_ci[0]:.3f}-{h.accuracy_ci[1]:.3f}); "
        f"balanced accuracy {h.balanced_accuracy:.3f}; majority class {majority:.3f}",
        "confusion matrix (rows true, columns predicted): " + ", ".join(classes),
        *[f"  {c:<7} " + " ".join(f"{v:4d}" for v in row) for c, row in zip(classes, cm)],
        "most confused: " + "; ".join(f"{t} as {p}: {n}" for n, t, p in pairs[:4]),
        f"wall time {seconds / 60:.1f} min (train with defaults + evaluate)",
    ]
    print("\n".join(lines))
    if args.write_doc:
        from _doc import write_section

        body = (
            f"Command: `python benchmarks/four_seasons.py --write-doc` on {machine}; "
            "`stylecast train ../shared/data/fpi-trends --group-column group` with every other "
            "setting at its default, scored once on its test split.\n\n```\n"
            + "\n".join(lines)
            + "\n```"
        )
        print(f"wrote {write_section('Four seasons (fpi-trends)', body)}")


if __name__ == "__main__":
    main()
