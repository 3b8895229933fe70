"""Per request: an id on every line, one log line at the end, one measurement.

The request id comes from asgi-correlation-id: a valid incoming `X-Request-ID` is kept (a
proxy's id ties its log to ours), anything else is replaced by a fresh one, and the id goes
back in the `X-Request-ID` response header.
"""

from __future__ import annotations

import inspect
import logging
import re
import time

import structlog
from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.observability.metrics import REQUEST_SECONDS

log = structlog.stdlib.get_logger("townsquare.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A UUID, with or without its hyphens: what load balancers, nginx's $request_id and we make.
# Nothing else is believed, so a client cannot put arbitrary text into our logs and headers.
_REQUEST_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)

# Method labels: anything else is one `OTHER`, so a client cannot mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# Probes and scrapes come every few seconds: logged at DEBUG unless they fail.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def valid_request_id(value: str) -> bool:
    return _REQUEST_ID.fullmatch(value) is not None


def add_request_telemetry(app: FastAPI) -> None:
    """Wrap the app's middlewares added so far in the request id and the telemetry (so their
    lines carry the id too), and give the 500s of unexpected errors the id as well."""
    app.add_middleware(RequestTelemetry)
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=valid_request_id)
    # Starlette answers an unhandled exception outside every middleware, so the one above never
    # sees that 500: its handler sets the header itself.
    unexpected = app.exception_handlers[Exception]

    async def unexpected_with_request_id(request: Request, exc: Exception) -> Response:
        response = unexpected(request, exc)
        if inspect.isawaitable(response):
            response = await response
        request_id = correlation_id.get()
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    app.add_exception_handler(Exception, unexpected_with_request_id)


class RequestTelemetry:
    """Logs `request` with method, route template, status, duration and the user, and feeds
    the latency histogram. The user is the one whose token the request's authentication
    accepted (it binds `user_id` for every line of the request); never the token itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, answered = 500, None  # unless a response starts: an exception became a 500

        async def watched(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], time.perf_counter()
            await send(message)

        structlog.contextvars.unbind_contextvars("user_id")  # none yet: set by authentication
        try:
            await self.app(scope, receive, watched)
        finally:
            finished = time.perf_counter()
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = getattr(scope.get("route"), "path", UNMATCHED)  # set by the router once matched
            REQUEST_SECONDS.labels(method, route, str(status)).observe((answered or finished) - started)
            level = logging.WARNING if status >= 500 else logging.INFO
            if route in QUIET_ROUTES and status < 400:
                level = logging.DEBUG
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round((finished - started) * 1000, 2),
                    user_id=None if status == 401 else structlog.contextvars.get_contextvars().get("user_id"),
                )
            structlog.contextvars.unbind_contextvars("user_id")
