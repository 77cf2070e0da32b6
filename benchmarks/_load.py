"""A small HTTP/1.1 load client for ``stylecast serve`` (serve_load.py, the soak test).

Like wrk or hey, it sends requests built once as bytes over keep-alive connections, a fixed
number in flight, and times each from its first byte sent to its last byte read. A Python
client such as httpx spends a millisecond of CPU per request, and on a 2-core machine that
time is taken from the server under test; this one spends a few tens of microseconds.
A request may also be sent cut off: part of its body, then the connection is closed (a client
that goes away mid-upload), which gets no answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Request",
    "free_port",
    "health_status",
    "multipart_request",
    "rss_bytes",
    "run_load",
    "start_server",
    "stop_server",
]


@dataclass(frozen=True)
class Request:
    """One request as bytes; ``cut`` sends only that many bytes, then hangs up."""

    kind: str
    raw: bytes
    cut: int | None = None


@dataclass
class LoadResult:
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    statuses: dict[str, Counter] = field(default_factory=dict)  # kind -> status counts
    failures: Counter = field(default_factory=Counter)  # transport errors by name

    def of(self, kind: str) -> np.ndarray:
        return np.array(self.latencies.get(kind, []))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart_request(
    port: int, path: str, files: list[tuple[str, bytes]], headers: dict[str, str] | None = None
) -> bytes:
    """A ``POST path`` with the images ``files`` ((name, bytes)) in the form field ``file``."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    )
    body += f"--{boundary}--\r\n".encode()
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _exchange(port: int, conn: list, req: Request) -> int | None:
    """Send ``req`` on the connection held in ``conn`` (opened when needed); its status, or
    None for a cut-off request."""
    if conn[0] is None:
        conn[0] = await asyncio.open_connection("127.0.0.1", port)
    reader, writer = conn[0]
    if req.cut is not None:
        writer.write(req.raw[: req.cut])
        await writer.drain()
        writer.close()
        conn[0] = None
        return None
    writer.write(req.raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    await reader.readexactly(length)
    if close:
        writer.close()
        conn[0] = None
    return status


async def _run(port: int, requests: list[Request], concurrency: int) -> LoadResult:
    result = LoadResult(seconds=0.0)
    next_index = 0

    async def client() -> None:
        nonlocal next_index
        conn: list = [None]
        while next_index < len(requests):
            req = requests[next_index]
            next_index += 1
            start = time.perf_counter()
            try:
                status = await _exchange(port, conn, req)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.failures[type(exc).__name__] += 1
                if conn[0] is not None:
                    conn[0][1].close()
                conn[0] = None
                continue
            result.latencies.setdefault(req.kind, []).append(time.perf_counter() - start)
            result.statuses.setdefault(req.kind, Counter())[status] += 1
        if conn[0] is not None:
            conn[0][1].close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


def run_load(port: int, requests: list[Request], concurrency: int) -> LoadResult:
    """Send every request of ``requests`` in order, ``concurrency`` at a time."""
    return asyncio.run(_run(port, requests, concurrency))


def start_server(
    run: Path,
    port: int,
    *flags: str,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    python: tuple[str, ...] = (),
    cwd: Path | None = None,
) -> subprocess.Popen:
    """``python -m stylecast serve RUN`` on 127.0.0.1:port, once /healthz answers
    (``python``: the interpreter's own flags, e.g. ``-S``; ``cwd``: where it runs, which
    ``-m`` puts first on its path)."""
    command = [sys.executable, *python, "-m", "stylecast", "serve", str(run), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--quiet", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
        cwd=cwd,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: {proc.stderr.read().strip()}")
        if health_status(port) == 200:
            return proc
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:g} s")


def health_status(port: int) -> int | None:
    """The status of ``GET /healthz`` on 127.0.0.1:port (None when nothing answers)."""
    probe = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    counts = run_load(port, [Request("health", probe)], 1).statuses.get("health")
    return next(iter(counts)) if counts else None


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
