"""Uploads for the serve tests: images as bytes, a PNG bomb, multipart bodies, raw ASGI calls."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image

BOUNDARY = "stylecast-test-boundary"


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (60, 80), colour=(120, 30, 40)) -> bytes:
    """A small garment-like photo: a coloured block on white."""
    arr = np.full((size[1], size[0], 3), 255, np.uint8)
    arr[size[1] // 5 : -size[1] // 5, size[0] // 5 : -size[0] // 5] = colour
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels in ~50 KB: every row zeros, deflated.

    Decoded it would need side * side bytes (400 MB at 20000); the server must refuse it
    from its header.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    block = row * 1000
    parts = [comp.compress(block) for _ in range(side // 1000)]
    parts += [comp.compress(row * (side % 1000)), comp.flush()]
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def part_header(filename: str, field: str = "file") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()


def multipart(files: Iterable[tuple[str, bytes]]) -> bytes:
    body = b"".join(part_header(name) + data + b"\r\n" for name, data in files)
    return body + f"--{BOUNDARY}--\r\n".encode()


def asgi_post(
    app: Any,
    chunks: Iterable[bytes],
    headers: dict[str, str] | None = None,
    path: str = "/api/predict",
    delay: float = 0.0,
) -> tuple[int, dict[str, str], Any, int]:
    """POST ``chunks`` to ``app`` over raw ASGI (``delay`` seconds before each): (status,
    headers, JSON body, chunks read)."""
    source = iter(chunks)
    hdrs = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", **(headers or {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in hdrs.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    state = {"read": 0, "done": False}
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict:
        if state["done"]:
            await asyncio.sleep(3600)  # the client stays connected until the answer comes
        await asyncio.sleep(delay)
        try:
            chunk = next(source)
        except StopIteration:
            state["done"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        state["read"] += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], json.loads(out["body"]), state["read"]
