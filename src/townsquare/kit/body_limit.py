"""Request bodies over the configured size: a 413 problem, before they fill memory."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.kit.errors import problem_response


class RejectLargeBodies:
    """A declared Content-Length over the limit is refused at once, with nothing read; a body
    without one (chunked) is counted as it arrives and refused when it passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An HTTPException: FastAPI lets those through its body parsing, to the problem handlers.
        refusal = HTTPException(413, detail=f"The request body is over {self.max_bytes} bytes.")
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response = problem_response(413, detail=refusal.detail)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise refusal  # answered by the problem+json handlers
            return message

        await self.app(scope, counted, send)
