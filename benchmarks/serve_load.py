"""``stylecast serve`` under load on 127.0.0.1, with and without dynamic batching.

Two servers run as a user starts them (``python -m stylecast serve RUN``, each its own
process, the same run and backend): one analyses each request on its own (``--max-batch
1``, the server as it was before batching), the other batches (``--max-batch 32``, the
default). The client (benchmarks/_load.py: keep-alive connections, requests prebuilt as
bytes) sends a fixed number of one-photo requests at concurrency 1, 8, 32 and 64, palette off
(``?palette=0``) and on, taking the two servers in turn for each cell, after untimed warm-up
requests; then both servers are stopped. Per cell: requests/s, p50 and p99 latency, errors.
Before that, in this process: what each step costs per image (decoding, the model alone at
batch 1 and at batch 32, the palette, Grad-CAM).

The photos are a generated lookbook (96x128 JPEGs). Without ``--run`` a small run is trained
first in a temporary folder (head mode on 24 lookbook images per season, 128 px); a given
``--run`` is copied there without its export, so that it is served as ``train`` left it.
``--backend`` picks what the servers are told:

- ``auto`` (the default, what a user gets): the first of this checkout's servers exports the
  run to ONNX at its start (stylecast/serve/backend.py) and both serve it with ONNX Runtime;
  "before" started first, on the run as train left it, and served it with torch.
- ``torch``: every server runs torch (batching alone).
- ``onnx``: the run is exported first and every server runs ONNX Runtime (batching alone).

With ``--before DIR`` (a checkout of the commit before batching, e.g. ``git worktree add DIR
78b5278``) a third server, "before", runs that checkout's code as its ``serve`` extra then
installed it: without httptools and uvloop (uvicorn's pure-Python HTTP parser and asyncio's
loop), each request on its own -- the server the issue measured at 43.7 requests/s.

Targets: at concurrency 32, palette off, batched >= 5x the requests/s of before (the
server as it was, started as a user starts it) with p99 <= 150 ms and 0 errors; at
concurrency 1, batched p50 within 10% of before. The ratios against one by one (the same
backend) show what batching alone gives.

Usage:  python benchmarks/serve_load.py [--run RUN] [--requests 400] [--backend auto]
        [--concurrency 1 8 32 64] [--repeat 1] [--write-doc]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import machine_line, write_section  # noqa: E402
from _load import (  # noqa: E402
    Request,
    free_port,
    multipart_request,
    run_load,
    start_server,
    stop_server,
)


def _tiny_run(root: Path, lookbook: Path) -> Path:
    from stylecast.config import EvaluateConfig, TrainConfig
    from stylecast.evaluation import evaluate
    from stylecast.training import train

    run = root / "run"
    cfg = TrainConfig(mode="head", img_size=128, group_column="group", head_epochs=8)
    train(lookbook, cfg, out=run, progress=False)
    evaluate(run, cfg=EvaluateConfig(n_bootstrap=200, gallery_size=0), progress=False)
    return run


def _median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    fn()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def _costs(run: Path, photos: list[tuple[str, bytes]], backend: str) -> dict[str, float]:
    """Milliseconds per image of each step, in this process."""
    from stylecast.serve import ServeSettings
    from stylecast.serve.images import decode, sniff
    from stylecast.serve.service import ModelService
    from stylecast.serve.upload import Upload

    settings = ServeSettings(backend=backend)
    service = ModelService.load(run, settings)
    uploads = [Upload(name, data) for name, data in photos[:32]]
    headers = [sniff(u, settings) for u in uploads]
    images = [decode(u, h) for u, h in zip(uploads, headers, strict=True)]
    items = service.prepare(images)
    n = len(images)
    return {
        "decode and letterbox": _median_ms(
            lambda: service.prepare([decode(u, h) for u, h in zip(uploads, headers)]), 5
        )
        / n,
        "model, batch of 1": _median_ms(lambda: service.classify(items[:1]), 30),
        f"model, batch of {n}": _median_ms(lambda: service.classify(items), 10) / n,
        "palette": _median_ms(lambda: [service.palette(d) for d in images[:8]], 3) / 8,
        "Grad-CAM": _median_ms(lambda: [service.cam(d, 0) for d in images[:4]], 3) / 4,
    }


def _cell(port: int, raws: list[bytes], n: int, concurrency: int, warmup: int) -> dict:
    warm = [Request("ok", raws[i % len(raws)]) for i in range(warmup)]
    run_load(port, warm, min(concurrency, warmup))
    result = run_load(port, [Request("ok", raws[i % len(raws)]) for i in range(n)], concurrency)
    lat = result.of("ok") * 1000
    statuses = result.statuses.get("ok", {})
    errors = sum(c for s, c in statuses.items() if s != 200) + sum(result.failures.values())
    return {
        "rps": n / result.seconds,
        "p50": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a trained run (default: train a small one)")
    ap.add_argument("--requests", type=int, default=400, help="timed requests per cell")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    ap.add_argument("--max-batch", type=int, default=32, help="the batching server's")
    ap.add_argument("--max-wait-ms", type=float, default=5.0, help="the batching server's")
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"])
    ap.add_argument(
        "--before", type=Path, help="a checkout of the server before batching, measured too"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help=f"measure the target cell (concurrency {TARGET}, palette off) this many times",
    )
    ap.add_argument("--write-doc", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    if args.before and not (args.before / "stylecast" / "serve").is_dir():
        raise SystemExit(f"error: --before {args.before} is not a stylecast checkout")
    if args.requests < 1 or min(args.concurrency) < 1 or args.repeat < 1:
        raise SystemExit("error: --requests, --concurrency and --repeat must be at least 1")
    from stylecast.demo import make_lookbook

    machine = machine_line()
    with tempfile.TemporaryDirectory(prefix="stylecast-serve-load-") as tmp:
        lookbook = Path(tmp) / "lookbook"
        make_lookbook(lookbook, 24, seed=3)
        photos = [(p.name, p.read_bytes()) for p in sorted(lookbook.glob("*/*.jpg"))]
        run = _copy_run(args.run, Path(tmp)) if args.run else _tiny_run(Path(tmp), lookbook)
        if args.backend == "onnx":
            subprocess.run(
                [sys.executable, "-m", "stylecast", "export", str(run), "--quiet"], check=True
            )
        queue = str(2 * max(args.concurrency))
        modes = {"one by one": "1", "batched": str(args.max_batch)}
        if args.before:
            modes = {"before": "", **modes}
        ports = {mode: free_port() for mode in modes}
        servers, starts = {}, {}
        try:
            for mode, batch in modes.items():
                flags = ["--queue", queue, "--backend", args.backend]
                began = time.perf_counter()
                if mode == "before":
                    env = _before_env(args.before, Path(tmp))
                    servers[mode] = start_server(
                        run.resolve(), ports[mode], *flags, env=env, python=("-S",), cwd=args.before
                    )
                else:
                    flags += ["--max-batch", batch, "--max-wait-ms", str(args.max_wait_ms)]
                    servers[mode] = start_server(run, ports[mode], *flags)
                starts[mode] = (time.perf_counter() - began, _backend(ports[mode]))
            costs = _costs(run, photos, args.backend)  # after the first start's export
            cells = {}
            for palette in ("off", "on"):
                query = "" if palette == "on" else "?palette=0"
                raws = {
                    mode: [multipart_request(port, f"/api/predict{query}", [p]) for p in photos]
                    for mode, port in ports.items()
                }
                for c in args.concurrency:
                    target = palette == "off" and c == TARGET
                    for _rep in range(args.repeat if target else 1):
                        for mode in modes:  # in turn, so drift of the machine hits all alike
                            cell = _cell(
                                ports[mode], raws[mode], args.requests, c, warmup=max(16, 2 * c)
                            )
                            cells.setdefault((mode, palette, c), []).append(cell)
        finally:
            for proc in servers.values():
                stop_server(proc)
    _report(args, machine, run, costs, cells, starts)


TARGET = 32  # the concurrency of the throughput and p99 targets

_BACKENDS = {
    "auto": "Backend `auto`, as a user starts the servers on a run that was never exported: "
    '"before" (started first) serves it with torch; the first of the other two exports it '
    "to ONNX at its start, and both serve it with ONNX Runtime. ",
    "torch": "Backend `torch` for every server: what batching alone gives. ",
    "onnx": "The run exported first, backend `onnx` for every server: what batching alone "
    "gives on ONNX Runtime. ",
}


def _backend(port: int) -> str:
    """What the server on ``port`` says it runs (GET /api/model)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/model", timeout=30) as res:
        return str(json.load(res)["model"]["backend"])


def _copy_run(given: Path, tmp: Path) -> Path:
    """``given`` as train left it (no export), in ``tmp``: the servers may write into it."""
    import shutil

    run = tmp / "run"
    shutil.copytree(given, run, ignore=shutil.ignore_patterns("model*.onnx", "export.json"))
    return run


def _before_env(checkout: Path, tmp: Path) -> dict[str, str]:
    """The environment of the "before" server, run with ``python -S``: its checkout first on
    the path, then this environment's site-packages (without their .pth files, so that an
    editable install of this checkout cannot take precedence), and uvloop and httptools
    hidden (they came into the serve extra with batching)."""
    import os
    import site

    hide = tmp / "hide-fast-http"
    hide.mkdir(exist_ok=True)
    for name in ("uvloop", "httptools"):
        (hide / f"{name}.py").write_text(f"raise ImportError('{name} hidden')\n")
    path = [str(hide), str(checkout.resolve()), *site.getsitepackages()]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def _report(args, machine: str, run: Path, costs: dict, cells: dict, starts: dict) -> None:  # noqa: ANN001
    lines = ["per image, in-process: " + ", ".join(f"{k} {v:.1f} ms" for k, v in costs.items())]
    lines.append(
        "servers (start to /healthz 200, backend): "
        + "; ".join(f"{mode} {sec:.1f} s, {backend}" for mode, (sec, backend) in starts.items())
    )
    lines.append("")
    lines.append("mode        palette  clients  requests/s  p50 ms  p99 ms  errors")
    for (mode, palette, c), reps in cells.items():
        for i, r in enumerate(reps):
            again = f" #{i + 1}" if len(reps) > 1 else ""
            lines.append(
                f"{mode:<11} {palette:<8} {c:>7}  {r['rps']:>10.1f}  {r['p50']:>6.1f}  "
                f"{r['p99']:>6.1f}  {r['errors']:>6}{again}"
            )
    lines.append("")
    verdicts = []
    if TARGET in args.concurrency:
        for i, batched in enumerate(cells["batched", "off", TARGET]):
            again = f" (#{i + 1})" if args.repeat > 1 else ""
            for base in ("before", "one by one"):
                if (base, "off", TARGET) not in cells:
                    continue
                one = cells[base, "off", TARGET][i]
                ratio = batched["rps"] / one["rps"]
                met = ratio >= 5 and batched["p99"] <= 150 and batched["errors"] == 0
                verdicts.append(
                    f"concurrency {TARGET}, palette off{again}: batched {batched['rps']:.1f} "
                    f"requests/s = {ratio:.2f}x {base} ({one['rps']:.1f}), p99 "
                    f"{batched['p99']:.0f} ms, errors {batched['errors']}; target >= 5x, "
                    "p99 <= 150 ms, 0 errors: " + ("met" if met else "MISSED")
                )
    if 1 in args.concurrency:
        for palette in ("off", "on"):
            for base in ("before", "one by one"):
                if (base, palette, 1) not in cells:
                    continue
                one, batched = cells[base, palette, 1][0], cells["batched", palette, 1][0]
                ratio = batched["p50"] / one["p50"]
                verdicts.append(
                    f"concurrency 1, palette {palette}: batched p50 {batched['p50']:.1f} ms = "
                    f"{ratio:.2f}x {base} ({one['p50']:.1f} ms); target <= 1.10x: "
                    + ("met" if ratio <= 1.10 else "MISSED")
                )
    total_errors = sum(r["errors"] for reps in cells.values() for r in reps)
    verdicts.append(f"errors in all cells: {total_errors}")
    lines += verdicts
    print("\n".join(lines))
    if args.write_doc:
        cmd = f"python benchmarks/serve_load.py --requests {args.requests}"
        cmd += f" --backend {args.backend}" if args.backend != "auto" else ""
        cmd += f" --run {args.run}" if args.run else ""
        cmd += " --before DIR" if args.before else ""
        cmd += f" --repeat {args.repeat}" if args.repeat > 1 else ""
        body = (
            "`stylecast serve` under load on 127.0.0.1, with and without dynamic batching "
            "(docs/serve.md): servers on the same run, one analysing each request on its "
            "own (`--max-batch 1`, the request path as it was before batching), one batching "
            f"(`--max-batch {args.max_batch} --max-wait-ms {args.max_wait_ms:g}`); "
            f"{args.requests} timed one-photo requests per cell (96x128 lookbook JPEGs), the "
            "servers taken in turn for each cell, palette off (`?palette=0`) and on"
            + (
                f", the target cell (concurrency {TARGET}, palette off) {args.repeat} times"
                if args.repeat > 1
                else ""
            )
            + ". The "
            "client keeps its connections open and sends prebuilt requests "
            "(benchmarks/_load.py), so that it takes little of the 2 cores from the servers. "
            + (
                '"before" is the server of commit 78b5278 (DIR, a `git worktree` of it) '
                "as its serve extra installed it: without httptools and uvloop, each request "
                "on its own. "
                if args.before
                else ""
            )
            + _BACKENDS[args.backend]
            + "Targets: at concurrency 32 without palette, batched >= 5x the requests/s of one "
            "by one (and of before) with p99 <= 150 ms and 0 errors; at concurrency 1, p50 "
            "within 10%.\n\n"
            f"Machine: {machine}.\nCommand: `{cmd} --write-doc`\n\n```text\n"
            + "\n".join(lines)
            + "\n```\n\n"
            + (
                f"A run folder: `{args.run.name}` (given, copied without its export)."
                if args.run
                else "A run folder trained by the script: head mode, 128 px."
            )
        )
        section = {
            "auto": "Serving",
            "torch": "Serving with torch",
            "onnx": "Serving with ONNX Runtime",
        }[args.backend]
        print(f"wrote {write_section(section, body)}")


if __name__ == "__main__":
    main()
