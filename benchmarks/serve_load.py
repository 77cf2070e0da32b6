"""A bounded load test of ``stylecast serve`` on 127.0.0.1: requests/s, p50/p99 latency, errors.

The server runs as a user starts it (``python -m stylecast serve RUN``, its own process) on a
free port of 127.0.0.1; the client sends exactly ``--requests`` requests (one photo each,
palette included as the page asks, Grad-CAM with ``--cam``) with ``--concurrency`` in flight,
after ``--warmup`` untimed ones, then stops the server: nothing runs on after the report.
The photos are a generated lookbook (96x128 JPEGs). Without ``--run`` a small run is trained
first in a temporary folder (head mode on 24 lookbook images per season, 128 px).

The baseline, in the same run: the run's ``Predictor`` in this process on the same photos,
one at a time (the model's own time, without HTTP, decoding or palette). Target: 0 errors.

Usage:  python benchmarks/serve_load.py [--run RUN] [--requests 200] [--concurrency 8]
        [--cam] [--workers 1] [--write-doc]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _doc import machine_line, write_section  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tiny_run(root: Path, lookbook: Path) -> Path:
    from stylecast.config import EvaluateConfig, TrainConfig
    from stylecast.evaluation import evaluate
    from stylecast.training import train

    run = root / "run"
    cfg = TrainConfig(mode="head", img_size=128, group_column="group", head_epochs=8)
    train(lookbook, cfg, out=run, progress=False)
    evaluate(run, cfg=EvaluateConfig(n_bootstrap=200, gallery_size=0), progress=False)
    return run


def _start(run: Path, port: int, args: argparse.Namespace) -> subprocess.Popen:
    import httpx

    command = [sys.executable, "-m", "stylecast", "serve", str(run), "--port", str(port)]
    command += ["--quiet", "--workers", str(args.workers), "--queue", str(2 * args.concurrency)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the server stopped: {proc.stderr.read().strip()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("error: the server did not answer /healthz within 300 s")


async def _load(url: str, photos: list[tuple[str, bytes]], n: int, concurrency: int) -> dict:
    """``n`` requests, ``concurrency`` at a time: latencies (s) and the errors met."""
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    next_index = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < n:
            i = next_index
            next_index += 1
            name, data = photos[i % len(photos)]
            start = time.perf_counter()
            try:
                res = await client.post(url, files=[("file", (name, data, "image/jpeg"))])
                ok = res.status_code == 200 and len(res.json()["results"]) == 1
                key = None if ok else f"HTTP {res.status_code}"
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            latencies.append(time.perf_counter() - start)
            if key:
                errors[key] = errors.get(key, 0) + 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return {"latencies": np.array(latencies), "errors": errors, "seconds": seconds}


def _baseline(run: Path, paths: list[Path], repeats: int) -> np.ndarray:
    """Seconds per image of the run's Predictor in this process, one image at a time."""
    from stylecast.inference import Predictor

    predictor = Predictor.from_run(run)
    predictor.predict_proba(paths[:1])  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        predictor.predict_proba([paths[i % len(paths)]])
        times.append(time.perf_counter() - start)
    return np.array(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a trained run (default: train a small one)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1, help="the server's inference threads")
    ap.add_argument("--cam", action="store_true", help="ask for Grad-CAM in every request")
    ap.add_argument("--write-doc", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    if args.requests < 1 or args.concurrency < 1:
        raise SystemExit("error: --requests and --concurrency must be at least 1")
    from stylecast.demo import make_lookbook

    machine = machine_line()
    with tempfile.TemporaryDirectory(prefix="stylecast-serve-load-") as tmp:
        lookbook = Path(tmp) / "lookbook"
        make_lookbook(lookbook, 24, seed=3)
        paths = sorted(lookbook.glob("*/*.jpg"))
        photos = [(p.name, p.read_bytes()) for p in paths]
        run = args.run or _tiny_run(Path(tmp), lookbook)
        port = _free_port()
        proc = _start(run, port, args)
        try:
            query = "?cam=1" if args.cam else ""
            url = f"http://127.0.0.1:{port}/api/predict{query}"
            asyncio.run(_load(url, photos, args.warmup, min(args.concurrency, args.warmup)))
            result = asyncio.run(_load(url, photos, args.requests, args.concurrency))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        base = _baseline(run, paths, repeats=min(50, args.requests))
    lat = result["latencies"] * 1000
    n_err = sum(result["errors"].values())
    rps = args.requests / result["seconds"]
    p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
    base_p50 = float(np.median(base) * 1000)
    lines = [
        f"requests {args.requests} at concurrency {args.concurrency} ({args.workers} worker; "
        f"palette{', Grad-CAM' if args.cam else ''}): {rps:.1f} requests/s, "
        f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, errors {n_err}"
        + (f" {result['errors']}" if n_err else ""),
        f"baseline: the Predictor in-process, one image at a time: p50 {base_p50:.1f} ms "
        f"({1000 / base_p50:.0f} images/s)",
        f"target 0 errors: {'met' if n_err == 0 else 'MISSED'}",
    ]
    print("\n".join(lines))
    if args.write_doc:
        cmd = f"nice -n 19 python benchmarks/serve_load.py --requests {args.requests} "
        cmd += f"--concurrency {args.concurrency}" + (" --cam" if args.cam else "")
        cmd += f" --run {args.run}" if args.run else ""
        body = (
            "`stylecast serve` under a bounded load on 127.0.0.1: the server in its own process, "
            "a fixed number of one-photo requests (96x128 lookbook JPEGs, palette included as "
            "the page asks) at a fixed concurrency, then the server is stopped. The baseline is "
            "the same run's `Predictor` in-process, one image at a time. Target: 0 errors.\n\n"
            f"Machine: {machine} (shared with other work while measured).\n"
            f"Command: `{cmd} --write-doc`\n\n```text\n" + "\n".join(lines) + "\n```\n\n"
            f"A run folder: `{os.path.basename(str(run))}` "
            + ("(given)." if args.run else "(trained by the script: head mode, 128 px).")
        )
        print(f"wrote {write_section('Serving', body)}")


if __name__ == "__main__":
    main()
