"""Request body limits, checked before a route reads the body: a declared Content-Length over
the limit is refused at once, and a body sent without one is counted as it arrives."""

from __future__ import annotations

import json

from fastapi import HTTPException


class BodyLimitMiddleware:
    """Pure ASGI. `limit` bytes for every body, `upload_limit` for the upload route(s)."""

    def __init__(self, app, limit: int, upload_limit: int, upload_paths: tuple[str, ...] = ("/v1/items",)) -> None:
        self.app, self.limit, self.upload_limit, self.upload_paths = app, limit, upload_limit, upload_paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"] in self.upload_paths else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _refuse(send, int(declared), limit)
        seen = [0]

        async def counting():
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise _TooLarge(seen[0], limit)
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLarge as exc:  # raised outside a route's body parsing (FastAPI answers the rest itself)
            await _refuse(send, exc.size, limit)


class _TooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing (which turns any other error while reading
    the body into a 400) answers it as the same 422 that `_refuse` sends."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(422, _detail(size, limit))
        self.size = size


async def _refuse(send, size: int, limit: int) -> None:
    """422 naming the body, as every other bad request field is named."""
    body = json.dumps({"detail": _detail(size, limit)}).encode()
    await send({"type": "http.response.start", "status": 422, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _detail(size: int, limit: int) -> list[dict]:
    return [{"loc": ["body"], "msg": f"the body is over the limit of {limit:,} bytes (at least {size:,} sent)", "type": "too_large"}]
