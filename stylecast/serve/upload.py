"""Reading ``multipart/form-data`` uploads with limits that hold while the bytes stream in.

The body is parsed chunk by chunk (python-multipart's streaming parser) into memory: a file
part that grows past ``max_upload_bytes``, a body past ``max_body_bytes`` or one file too many
stops the read at once with 413, so a 50 MB upload costs at most the limit in memory and
nothing is ever written to disk. A ``Content-Length`` above the body limit is refused before
the first byte is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from stylecast.serve.problems import ApiError
from stylecast.serve.settings import ServeSettings

__all__ = ["FIELD", "Upload", "check_content_length", "read_uploads"]

FIELD = "file"  # the multipart field of every image, repeated for several
_MAX_FIELD_BYTES = 1024  # other (non-file) form fields are read, bounded, and ignored
_MAX_FIELDS = 16


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the client's name for it (for the answer only) and its bytes."""

    filename: str
    data: bytes


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def check_content_length(headers: Mapping[str, str], settings: ServeSettings) -> None:
    """413 when the declared body is larger than any acceptable request (nothing read)."""
    declared = headers.get("content-length")
    if declared is None:
        return
    try:
        size = int(declared)
    except ValueError:
        raise ApiError(400, "bad_content_length", "Content-Length is not a number") from None
    if size > settings.max_body_bytes:
        raise ApiError(
            413,
            "body_too_large",
            f"the request body is {_mb(size)}; at most {settings.max_files} file(s) of "
            f"{_mb(settings.max_upload_bytes)} each are accepted",
        )


def _clean_filename(raw: bytes) -> str:
    name = raw.decode("utf-8", errors="replace").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())
    return name[:200] or "upload"


class _Parts:
    """python-multipart callbacks that collect file parts, enforcing the limits."""

    def __init__(self, settings: ServeSettings) -> None:
        from python_multipart.multipart import parse_options_header

        self._options = parse_options_header
        self.settings = settings
        self.uploads: list[Upload] = []
        self.fields = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._filename: str | None = None
        self._data = bytearray()
        self._size = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self._disposition, self._filename, self._data, self._size = b"", None, bytearray(), 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = self._options(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if b"filename" not in options:
            self.fields += 1
            if self.fields > _MAX_FIELDS:
                raise ApiError(400, "too_many_fields", f"at most {_MAX_FIELDS} form fields")
            return
        if name != FIELD:
            raise ApiError(
                400,
                "unexpected_field",
                f"files go in the multipart field {FIELD!r} (repeated for several), not {name!r}",
            )
        if len(self.uploads) >= self.settings.max_files:
            raise ApiError(
                413,
                "too_many_files",
                f"at most {self.settings.max_files} images in one request",
            )
        self._filename = _clean_filename(options[b"filename"])

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._filename is None:
            if self._size > _MAX_FIELD_BYTES:
                raise ApiError(
                    400, "field_too_large", f"form fields hold at most {_MAX_FIELD_BYTES} bytes"
                )
            return
        if self._size > self.settings.max_upload_bytes:
            raise ApiError(
                413,
                "file_too_large",
                f"{self._filename} is larger than the limit of "
                f"{_mb(self.settings.max_upload_bytes)} per file",
                filename=self._filename,
            )
        self._data += data[start:end]

    def on_part_end(self) -> None:
        if self._filename is not None:
            self.uploads.append(Upload(self._filename, bytes(self._data)))
        self._data = bytearray()

    def on_end(self) -> None:
        self.ended = True

    def callbacks(self) -> dict:
        return {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_part_data",
                "on_part_end",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_end",
            )
        }


async def read_uploads(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], settings: ServeSettings
) -> list[Upload]:
    """The files of the ``file`` field, read from ``chunks`` within every limit (ApiError)."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    check_content_length(headers, settings)
    kind, params = parse_options_header(headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(
            415,
            "not_multipart",
            f"send the images as multipart/form-data in the field {FIELD!r}",
        )
    parts = _Parts(settings)
    parser = MultipartParser(params[b"boundary"], parts.callbacks())
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > settings.max_body_bytes:
                raise ApiError(
                    413,
                    "body_too_large",
                    f"the request body exceeds {_mb(settings.max_body_bytes)}",
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise ApiError(
            400, "malformed_multipart", f"the multipart body is malformed ({exc})"
        ) from None
    if not parts.ended:
        raise ApiError(
            400, "incomplete_multipart", "the multipart body ended before its closing boundary"
        )
    if not parts.uploads:
        raise ApiError(
            400, "no_file", f"no image in the request: send one or more in the field {FIELD!r}"
        )
    return parts.uploads
