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
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townsquare.kit.hot_routes import flat_routes
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


def route_template(scope: Scope) -> str:
    """The template of the route that the request's method and path match, else UNMATCHED."""
    app = scope.get("app")
    if app is None:
        return UNMATCHED
    routes = _ROUTES.get(id(app))
    if routes is None:
        routes = _ROUTES[id(app)] = list(flat_routes(app.router.routes))
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return str(getattr(route, "path", UNMATCHED))
    return UNMATCHED


_ROUTES: dict[int, list[BaseRoute]] = {}


class StrayRequests:
    """Requests for paths no route answers, per client address: a client looping on 404s
    (Mastodon.py once sent about 1,000 a second) gets its first few a minute logged, then one
    line per SAMPLE, which says how many it stands for (`repeated`)."""

    WINDOW = 60.0
    LOGGED = 5
    SAMPLE = 100
    ADDRESSES = 10_000  # remembered at most; past that, forgotten all at once

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, int]] = {}

    def seen(self, address: str, now: float) -> int | None:
        """None: log it as usual; 0: do not log it; n: log it for the n since the last line."""
        started, count = self._seen.get(address, (now, 0))
        if now - started > self.WINDOW:
            started, count = now, 0
        count += 1
        if len(self._seen) >= self.ADDRESSES and address not in self._seen:
            self._seen.clear()
        self._seen[address] = (started, count)
        if count <= self.LOGGED:
            return None
        return self.SAMPLE if (count - self.LOGGED) % self.SAMPLE == 0 else 0


STRAYS = StrayRequests()


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
            route = getattr(scope.get("route"), "path", None)  # set by the router once matched
            if route is None:
                # Unmatched, or answered before routing (a 413 for a body over the limit): under
                # the template its path and method would have matched.
                route = UNMATCHED if status in (404, 405) else route_template(scope)
            REQUEST_SECONDS.labels(method, route, str(status)).observe((answered or finished) - started)
            # A 503 is the database away (logged once, db/outage.py) or overloaded: the client's
            # cue to retry, one line each at INFO like any other answer.
            level = logging.WARNING if status >= 500 and status != 503 else logging.INFO
            if route in QUIET_ROUTES and status < 400:
                level = logging.DEBUG
            repeated = None
            if route == UNMATCHED and status == 404:
                repeated = STRAYS.seen(scope["client"][0] if scope.get("client") else "", finished)
            if log.isEnabledFor(level) and repeated != 0:
                log.log(
                    level,
                    "request",
                    **({"repeated": repeated} if repeated else {}),
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round((finished - started) * 1000, 2),
                    user_id=None if status == 401 else structlog.contextvars.get_contextvars().get("user_id"),
                )
            structlog.contextvars.unbind_contextvars("user_id")
