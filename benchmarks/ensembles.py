"""Ensembles and their distilled students against one model, on one split, over seeds.

For each base seed (``--seeds``, default 0 10 20) the script trains ``stylecast train
--ensemble 5 --seed S`` on one grouped split of fpi-season (the split the first seed makes)
and reads off, on the test split, with McNemar's p against the single model of that seed:

- the single model: member 0 (trained exactly as ``stylecast train --seed S`` trains; the
  suite checks that its weights are the same);
- the ensemble of 3: members 0-2, assembled with ``stylecast ensemble`` (the same members
  ``--ensemble 3`` trains);
- the ensemble of 5;
- the student: ``stylecast distill`` of the ensemble of 5 (the teacher's configuration and
  seed, the default temperature and alpha).

Wall times are training times on this machine (an ensemble's is the sum of its members');
inference speed is ``predict_batch`` on the test split with torch (model only, images/s),
every model measured in this run, the best of three rounds that take the models in turn.
``--varied`` adds an ensemble of 3 with ``--ensemble-recipes varied`` for the first seed
(its members 1 and 2 trained with the recipe variants); ``--extra DIR`` adds a student of
the first seed's ensemble of 5 that also learns from the unlabelled images of DIR.

``--runs DIR`` keeps every run and reuses finished ones, so an interrupted benchmark resumes
(interrupted ensembles continue member by member).

Usage:  python benchmarks/ensembles.py [--data DIR] [--seeds 0 10 20] [--runs DIR]
        [--varied] [--extra DIR] [--write-doc]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _doc import machine_line, require, runs_root, shared_data, write_section  # noqa: E402
from accuracy import mcnemar_p  # noqa: E402

from stylecast import EvaluateConfig, TrainConfig, evaluate, train  # noqa: E402
from stylecast.run import RunFolder  # noqa: E402

SECTION = "Ensembles and distilled students"
EVAL = EvaluateConfig(gallery_size=0)  # galleries (Grad-CAM per member) measure nothing here


class Times:
    """Training seconds of every run, kept beside the runs (a reused run keeps its time)."""

    def __init__(self, root: Path) -> None:
        self.path = root / "times.json"
        self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def set(self, key: str, seconds: float) -> None:
        self.data[key] = seconds
        self.path.write_text(json.dumps(self.data, indent=1))

    def get(self, key: str) -> float | None:
        return self.data.get(key)


def _ensemble(data: str, cfg: TrainConfig, run: Path, splits: Path | None, times: Times) -> None:
    folder = RunFolder(run)
    if folder.is_trained():
        return
    if folder.holds_run():
        res = train(None, None, run, resume=True, progress=False)
    else:
        res = train(data, cfg, run, progress=False, splits_csv=splits)
    for k, m in enumerate(res.members):
        if m.seconds > 0:  # 0: trained by an earlier, interrupted call (see _member_seconds)
            times.set(f"{run.name}/{k}", m.seconds)


def _member_seconds(e5: Path, k: int, times: Times) -> float:
    """Member ``k``'s training time: as timed, or, for a member an interrupted call finished
    (its time never reached times.json), from its config's write to its weights' write
    (within a second of the timed figure for members trained in one go)."""
    kept = times.get(f"{e5.name}/{k}")
    if kept is not None:
        return kept
    member = e5 / "members" / str(k)
    start = (member / "config.yaml").stat().st_mtime
    return (member / "model.safetensors").stat().st_mtime - start


def _single(data: str, cfg: TrainConfig, run: Path, splits: Path, times: Times) -> Path:
    if not RunFolder(run).is_trained():
        t0 = time.perf_counter()
        train(data, cfg, run, progress=False, splits_csv=splits)
        times.set(run.name, time.perf_counter() - t0)
    return run


def _assemble(members: list[Path], run: Path) -> Path:
    from stylecast.ensemble import build_ensemble

    if not RunFolder(run).is_trained():
        build_ensemble(members, run)
    return run


def _distill(teacher: Path, run: Path, extra: list[str], times: Times) -> Path:
    from stylecast.distill import distill

    if not RunFolder(run).is_trained():
        t0 = time.perf_counter()
        if RunFolder(run).distill_file.is_file():
            distill(None, run, resume=True, progress=False)
        else:
            distill(teacher, run, extra, progress=False)
        times.set(run.name, time.perf_counter() - t0)
    return run


def _scores(run: Path) -> dict:
    """Evaluate (once) and read the test accuracy and per-image correctness."""
    import pandas as pd

    folder = RunFolder(run)
    if not folder.evaluation_file.is_file():
        evaluate(run, cfg=EVAL, progress=False)
    ev = json.loads(folder.evaluation_file.read_text())
    pred = pd.read_csv(folder.predictions_file, dtype={"path": str}).set_index("path")
    return {
        "test": float(ev["accuracy"]),
        "ci": ev["accuracy_ci"],
        "correct": pred["correct"].astype(bool).to_dict(),
    }


def _subsets(e5: Path, k: int) -> list[float]:
    """Test accuracy of every ensemble of ``k`` of ``e5``'s members (each member evaluated
    alone first: its probabilities at its own temperature, as the ensemble combines them)."""
    import itertools

    import numpy as np
    import pandas as pd

    members = sorted((e5 / "members").iterdir(), key=lambda p: int(p.name))
    frames = []
    for member in members:
        _scores(member)
        frames.append(pd.read_csv(RunFolder(member).predictions_file, dtype={"path": str}))
    classes = RunFolder(e5).model_info().classes
    cols = [f"p_{c}" for c in classes]
    base = frames[0].set_index("path")
    probs = [f.set_index("path").loc[base.index, cols].to_numpy() for f in frames]
    truth = base["true"].astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy()
    return [
        float((np.mean([probs[i] for i in pick], axis=0).argmax(1) == truth).mean())
        for pick in itertools.combinations(range(len(members)), k)
    ]


def _subset_table(rows: list[dict], root: Path) -> list[str]:
    """Every member alone and every ensemble of 3 of a seed's five members: the spread a
    user meets when training one model or three."""
    table = [
        "| seed | models | how many | mean test accuracy | lowest | highest |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        e5 = root / f"e5-s{row['seed']}"
        for k, name in ((1, "one member"), (3, "3 of the 5 members")):
            acc = _subsets(e5, k)
            table.append(
                f"| {row['seed']} | {name} | {len(acc)} | {statistics.fmean(acc):.3f} "
                f"| {min(acc):.3f} | {max(acc):.3f} |"
            )
    return table


def _speeds(runs: list[Path], manifest: Path, rounds: int = 3) -> dict[Path, float]:
    """Model-only images/s of torch predict on the test split, each run's best of ``rounds``
    rounds that take the runs in turn (a burst of other work, or a cold first call, then
    touches every run alike rather than the one measured at that moment)."""
    from stylecast.inference import PredictOptions, predict_batch

    opts = PredictOptions(backend="torch", shift_check=False, progress=False)
    best: dict[Path, float] = {}
    for _ in range(rounds):
        for run in runs:
            ips = predict_batch(run, [manifest], opts).predict_images_per_s
            best[run] = max(best.get(run, 0.0), ips)
    return best


def _test_manifest(splits: Path, root: Path, image_root: Path) -> Path:
    import pandas as pd

    df = pd.read_csv(splits, dtype=str, keep_default_na=False)
    test = df[df["split"] == "test"][["path", "label"]]
    test = test.assign(path=[str(image_root / p) for p in test["path"]])
    out = root / "test-images.csv"
    test.to_csv(out, index=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=shared_data("fpi-season"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 10, 20])
    ap.add_argument("--runs", help="keep the run folders here (and reuse finished ones)")
    ap.add_argument("--varied", action="store_true", help="also an ensemble of varied recipes")
    ap.add_argument("--extra", help="also a student that learns from these unlabelled images")
    ap.add_argument("--write-doc", action="store_true", help="write docs/benchmarks.md")
    args = ap.parse_args()
    require(args.data)
    machine = machine_line()
    base = TrainConfig(group_column="group")
    rows: list[dict] = []
    extra_rows: list[dict] = []
    with contextlib.ExitStack() as stack:
        root = runs_root(stack, args.runs)
        times = Times(root)
        splits: Path | None = None
        for seed in args.seeds:
            e5 = root / f"e5-s{seed}"
            _ensemble(
                args.data, dataclasses.replace(base, ensemble=5, seed=seed), e5, splits, times
            )
            splits = splits or e5 / "splits.csv"
            members = [e5 / "members" / str(k) for k in range(5)]
            e3 = _assemble(members[:3], root / f"e3-s{seed}")
            student = _distill(e5, root / f"student-s{seed}", [], times)
            member_s = [_member_seconds(e5, k, times) for k in range(5)]
            runs = {
                "single model": (members[0], member_s[0]),
                "ensemble of 3": (e3, sum(member_s[:3])),
                "ensemble of 5": (e5, sum(member_s)),
                "distilled student": (student, times.get(student.name) or float("nan")),
            }
            rows.append({"seed": seed, "runs": runs})
            print(f"seed {seed}: trained", flush=True)
        first = args.seeds[0]
        e5 = root / f"e5-s{first}"
        if args.varied:
            varied_cfg = dataclasses.replace(
                base, ensemble=3, seed=first, ensemble_recipes="varied"
            )
            from stylecast.ensemble import member_config

            parts = [e5 / "members" / "0"] + [
                _single(
                    args.data,
                    member_config(varied_cfg, k),
                    root / f"varied-s{first}-{k}",
                    splits,
                    times,
                )
                for k in (1, 2)
            ]
            run = _assemble(parts, root / f"e3-varied-s{first}")
            secs = (times.get(f"{e5.name}/0") or 0) + sum(
                times.get(f"varied-s{first}-{k}") or 0 for k in (1, 2)
            )
            extra_rows.append({"name": "ensemble of 3, varied recipes", "run": run, "s": secs})
        if args.extra:
            run = _distill(e5, root / f"student-extra-s{first}", [args.extra], times)
            extra_rows.append(
                {
                    "name": f"student with {Path(args.extra).name} unlabelled",
                    "run": run,
                    "s": times.get(run.name) or float("nan"),
                }
            )
        manifest = _test_manifest(splits, root, RunFolder(e5).image_root())
        speeds = _speeds(
            [run for row in rows for run, _ in row["runs"].values()]
            + [row["run"] for row in extra_rows],
            manifest,
        )
        for row in rows:
            for name, (run, secs) in row["runs"].items():
                row[name] = _scores(run) | {"minutes": secs / 60, "ips": speeds[run]}
        for row in extra_rows:
            row |= _scores(row["run"]) | {"minutes": row["s"] / 60, "ips": speeds[row["run"]]}
        subset_lines = _subset_table(rows, root)
    table = _table(rows, extra_rows)
    table += [
        "",
        "Every member alone and every choice of 3 of the 5 members (probabilities averaged "
        "as `--ensemble 3` does), on the same test images:",
        "",
        *subset_lines,
    ]
    print("\n" + "\n".join(table))
    if args.write_doc:
        seeds = " ".join(map(str, args.seeds))
        flags = (" --varied" if args.varied else "") + (
            f" --extra {args.extra}" if args.extra else ""
        )
        runs = f" --runs {args.runs}" if args.runs else ""
        body = "\n".join(
            [
                f"Command: `python benchmarks/ensembles.py --seeds {seeds}{runs}{flags} "
                f"--write-doc` on {machine}.",
                "",
                "fpi-season, one grouped split (the first seed's), 537 test images. Per seed S: "
                "the single model is `stylecast train --seed S` (member 0 of the ensemble of 5), "
                "the ensembles are `--ensemble 3` / `--ensemble 5` with seed S, the student is "
                "`stylecast distill` of the ensemble of 5. McNemar's p pairs each with the single "
                "model of the same seed on the test images; training time is on this machine "
                "(an ensemble's is its members' sum); images/s is torch `predict` on the test "
                "split, model only, measured in the same run (each model's best of three rounds "
                "that take the models in turn).",
                "",
                *table,
            ]
        )
        print(f"wrote {write_section(SECTION, body)}")


def _fmt_row(name: str, r: dict, single: dict | None, seed: object) -> str:
    p = "" if single is None else f"{mcnemar_p(r['correct'], single['correct']):.3f}"
    gain = "" if single is None else f"{100 * (r['test'] - single['test']):+.1f}"
    lo, hi = r["ci"]
    return (
        f"| {name} | {seed} | {r['test']:.3f} | {lo:.3f}–{hi:.3f} | {gain} | {p} "
        f"| {r['minutes']:.1f} min | {r['ips']:.0f} |"
    )


def _table(rows: list[dict], extra_rows: list[dict]) -> list[str]:
    names = ["single model", "ensemble of 3", "ensemble of 5", "distilled student"]
    table = [
        "| model | seed | test accuracy | 95% CI | points vs single | McNemar p vs single "
        "| training | images/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for name in names:
            single = None if name == "single model" else row["single model"]
            table.append(_fmt_row(name, row[name], single, row["seed"]))
    for row in extra_rows:
        table.append(_fmt_row(row["name"], row, rows[0]["single model"], rows[0]["seed"]))
    table += [
        "",
        "| model | mean test accuracy | mean points vs single | mean training "
        "| mean images/s | speed vs single |",
        "|---|---|---|---|---|---|",
    ]
    mean = {n: statistics.fmean(r[n]["test"] for r in rows) for n in names}
    ips = {n: statistics.fmean(r[n]["ips"] for r in rows) for n in names}
    for n in names:
        minutes = statistics.fmean(r[n]["minutes"] for r in rows)
        table.append(
            f"| {n} | {mean[n]:.3f} | {100 * (mean[n] - mean['single model']):+.1f} "
            f"| {minutes:.1f} min | {ips[n]:.0f} | {ips[n] / ips['single model']:.2f}x |"
        )
    single, student = mean["single model"], mean["distilled student"]
    for teacher in ("ensemble of 5", "ensemble of 3"):
        gain = mean[teacher] - single
        kept = (student - single) / gain if gain > 0 else float("nan")
        table.append("")
        table.append(
            f"The student keeps {kept:.0%} of the {teacher}'s gain "
            f"({100 * (student - single):+.1f} of {100 * gain:+.1f} points)."
        )
    return table


if __name__ == "__main__":
    main()
