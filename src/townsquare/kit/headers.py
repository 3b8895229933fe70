"""Security headers on every response (OWASP ASVS V3/V14 for an API)."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers above; `Cache-Control: no-store` to answers of requests that carry a
    token and to every answer under /auth/ and /oauth/ (tokens are issued there: RFC 6749 5.1), so nothing
    private stays in a cache; HSTS when the request came over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        private = (
            "authorization" in request_headers
            or b"access_token=" in scope.get("query_string", b"")
            or scope["path"].startswith(("/auth/", "/oauth/"))
        )
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if private:
                    headers["Cache-Control"] = "no-store"
                if over_tls:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
