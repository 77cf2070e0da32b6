"""The one error type of the HTTP API: a status code, a short code and a sentence.

Every error the server answers is JSON ``{"error": CODE, "detail": SENTENCE}`` (plus
``filename`` when one uploaded file is at fault), with a 4xx code for what the client sent
and 5xx only for what the server could not do (503 busy, 504 too slow, 500 a bug).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_body"]


class ApiError(Exception):
    """An answer other than 200: ``status``, a snake_case ``code`` and a ``detail`` sentence."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        filename: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.filename = filename
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.detail, filename=self.filename)


def error_body(code: str, detail: Any, *, filename: str | None = None) -> dict[str, Any]:
    """The JSON body of an error."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if filename is not None:
        body["filename"] = filename
    return body
