"""A soak: 2,000 requests at concurrency 32 against a real server, some of them bad.

The server runs as a user starts it (``python -m stylecast serve RUN``, its own process,
batching on); one request in five is bad: not an image, over the size limit, a cut-off image,
or an upload whose client hangs up halfway. Every good one is answered 200, every bad one
with its own 4xx, no connection fails, and the server's memory stays flat.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._load import (
    Request,
    free_port,
    health_status,
    multipart_request,
    rss_bytes,
    run_load,
    start_server,
    stop_server,
)
from tests.serve._uploads import image_bytes

N, CONCURRENCY, FIRST = 2000, 32, 100


def _requests(port: int, photos: list[Path]) -> list[Request]:
    good = [
        multipart_request(port, path, [(p.name, p.read_bytes())])
        for p in photos
        for path in ("/api/predict?palette=0", "/api/predict")
    ]
    whole = image_bytes("PNG", size=(200, 200))
    bad = {
        "not an image": (multipart_request(port, "/api/predict", [("a.jpg", b"<html>" * 50)]), 415),
        "too large": (
            multipart_request(port, "/api/predict", [("big.jpg", b"\xff" * 300_000)]),
            413,
        ),
        "cut-off image": (
            multipart_request(port, "/api/predict", [("cut.png", whole[: len(whole) // 2])]),
            422,
        ),
    }
    out = []
    for i in range(N):
        kind = i % 20
        if kind == 5:
            out.append(Request("not an image", bad["not an image"][0]))
        elif kind == 10:
            out.append(Request("too large", bad["too large"][0]))
        elif kind == 15:
            out.append(Request("cut-off image", bad["cut-off image"][0]))
        elif kind == 19:  # the client hangs up halfway through its upload
            raw = good[i % len(good)]
            out.append(Request("hung up", raw, cut=len(raw) // 2))
        else:
            out.append(Request("good", good[i % len(good)]))
    return out


@pytest.mark.slow
def test_two_thousand_requests_some_bad_keep_the_server_whole(
    serve_run: Path, photos: list[Path]
) -> None:
    port = free_port()
    proc = start_server(serve_run, port, "--max-upload-mb", "0.25", "--no-export")
    try:
        requests = _requests(port, photos)
        first = run_load(port, requests[:FIRST], CONCURRENCY)
        after_first = rss_bytes(proc.pid)
        rest = run_load(port, requests[FIRST:], CONCURRENCY)
        at_end = rss_bytes(proc.pid)
        health = health_status(port)
    finally:
        stop_server(proc)
    statuses: dict[str, dict[int | None, int]] = {}
    for result in (first, rest):
        assert not result.failures, f"connections failed: {dict(result.failures)}"
        for kind, counts in result.statuses.items():
            for status, n in counts.items():
                statuses.setdefault(kind, {}).setdefault(status, 0)
                statuses[kind][status] += n
    assert statuses["good"] == {200: N * 16 // 20}
    assert statuses["not an image"] == {415: N // 20}
    assert statuses["too large"] == {413: N // 20}
    assert statuses["cut-off image"] == {422: N // 20}
    assert statuses["hung up"] == {None: N // 20}  # sent halfway, then closed: no answer
    assert health == 200
    # Memory is flat: the end within 20% of after the first 100 requests.
    assert at_end <= 1.2 * after_first, (after_first, at_end)
