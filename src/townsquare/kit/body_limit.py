"""Request bodies over the configured size: a 413 problem, before they fill memory."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.kit.errors import problem_response


class RejectLargeBodies:
    """A declared Content-Length over the limit is refused at once, with nothing read; a body
    without one (chunked) is counted as it arrives and refused when it passes the limit.

    Refusing is answering 413 here and telling the app the client is gone; whatever the app
    answers after that is dropped. Once the app has begun its own answer (an event stream
    reading on), too late for a 413, the exchange just ends.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refusal()(scope, receive, send)
            return
        received, app_answering, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                refused = True
                if not app_answering:
                    await self._refusal()(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal app_answering
            if refused and not app_answering:
                return  # we answered 413 already
            app_answering = True
            await send(message)

        await self.app(scope, counted, answer)

    def _refusal(self) -> Response:
        # Made only when needed: building a problem response costs more than the rest of this.
        return problem_response(413, detail=f"The request body is over {self.max_bytes} bytes.")
