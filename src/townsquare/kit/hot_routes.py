"""Hot routes: the busiest GET pages answered without FastAPI's routing and dependency solving.

A FastAPI route costs, before its endpoint runs, a scan of every route's pattern, a Request
object and the solving of its dependency tree with a validation per parameter: on a page whose
one statement PostgreSQL answers in a fraction of a millisecond, more CPU than the statement.
A hot route is a second way to answer one of those GET routes (same path template): its
handler reads the request plainly (path segments, the query string, the bearer token) and
calls the same service function the FastAPI route calls.

The FastAPI route stays the reference: it is in OpenAPI, and it answers every request the
handler does not read plainly. A handler raises `NotPlain` for anything it would have to
validate the way FastAPI does (a `limit` that is not a plain number in range, a repeated
parameter, a token that does not decode, a header it does not expect) and the request goes on
to FastAPI as if no hot route existed, before anything was read from the database. Errors
raised while answering (the 401 of an ended session, a 404, a 503) go through the app's own
exception handlers, the bytes the FastAPI route would send; an error no handler takes goes up
to the outer middlewares like any route's.

`HotRoutes` is the innermost middleware: the request id, the log line, the metrics, the
security headers and CORS wrap a hot route as they wrap every other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send


class NotPlain(Exception):  # noqa: N818: a signal, not an error
    """The request is not one this hot route reads plainly: FastAPI's route answers it."""


class HotRequest:
    """What a hot route's handler reads: path parameters, single-valued query parameters and
    headers, and the app."""

    __slots__ = ("_query", "app", "path_params", "scope")

    def __init__(self, scope: Scope, path_params: dict[str, str]) -> None:
        self.scope = scope
        self.app: Any = scope["app"]
        self.path_params = path_params
        self._query: dict[str, str] | None = None

    def query(self, name: str) -> str | None:
        """The parameter's one value; NotPlain if it is given more than once."""
        if self._query is None:
            self._query = {}
            raw = self.scope["query_string"]
            if raw:
                # As Starlette reads a query string; a name given twice is left to FastAPI.
                for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
                    if key in self._query:
                        raise NotPlain()
                    self._query[key] = value
        return self._query.get(name)

    def header(self, name: bytes) -> str | None:
        """The header's one value (`name` in lower case); NotPlain if it is sent more than once."""
        found = None
        for key, value in self.scope["headers"]:
            if key == name:
                if found is not None:
                    raise NotPlain()
                found = value.decode("latin-1")
        return found

    def bearer_token(self) -> str | None:
        """The `Authorization: Bearer` token, None without an Authorization header; NotPlain
        for any other Authorization header (FastAPI's OAuth2PasswordBearer reads those)."""
        authorization = self.header(b"authorization")
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token or token != token.strip():
            raise NotPlain()
        return token


Handler = Callable[[HotRequest], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class HotRoute:
    """`handler` answers GET `path` (a FastAPI route's template, e.g. `/posts/{post_id}`)."""

    path: str
    handler: Handler

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))


class HotRoutes:
    """Sends GET requests for a hot route's path to its handler, everything else (and every
    request the handler raises NotPlain for) on to the app."""

    def __init__(self, app: ASGIApp, routes: Sequence[HotRoute]) -> None:
        self.app = app
        # By number of segments and first segment (never a parameter in our hot routes).
        self._routes: dict[tuple[int, str], list[tuple[tuple[str, ...], HotRoute]]] = {}
        for route in routes:
            segments = route.segments
            if segments[0].startswith("{"):
                raise ValueError(f"a hot route starts with a fixed segment: {route.path}")
            self._routes.setdefault((len(segments), segments[0]), []).append((segments, route))
        self._fastapi_routes: dict[str, BaseRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = self._match(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, path_params = found
        try:
            response = await route.handler(HotRequest(scope, path_params))
        except NotPlain:
            await self.app(scope, receive, send)
            return
        except Exception as error:
            response = await self._handled(scope, receive, error)
        # The FastAPI route's, for what reads `scope["route"]` (the request's metric and log line).
        scope["route"] = self._fastapi_route(scope["app"], route.path)
        await response(scope, receive, send)

    def _match(self, path: str) -> tuple[HotRoute, dict[str, str]] | None:
        segments = path[1:].split("/")
        for template, route in self._routes.get((len(segments), segments[0]), ()):
            params = {}
            for expected, given in zip(template, segments, strict=True):
                if expected.startswith("{"):
                    if not given:
                        break  # an empty segment matches no parameter
                    params[expected[1:-1]] = given
                elif expected != given:
                    break
            else:
                return route, params
        return None

    def _fastapi_route(self, app: Any, path: str) -> BaseRoute:
        found = self._fastapi_routes.get(path)
        if found is None:
            found = self._fastapi_routes[path] = next(
                route
                for route in flat_routes(app.router.routes)
                if getattr(route, "path", None) == path and "GET" in (getattr(route, "methods", None) or ())
            )
        return found

    @staticmethod
    async def _handled(scope: Scope, receive: Receive, error: Exception) -> Response:
        """The app's answer to `error`, from the handler Starlette's ExceptionMiddleware would
        pick (by the error's class); an error only the catch-all takes is raised again."""
        handlers = scope["app"].exception_handlers
        for kind in type(error).__mro__:
            if kind is Exception:
                break
            handler = handlers.get(kind)
            if handler is not None:
                response: Response = await handler(Request(scope, receive), error)
                return response
        raise error


def flat_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, those of included routers too (FastAPI keeps an included router as one
    route of the app; its own routes are inside)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from flat_routes(included.routes)
        else:
            yield route
