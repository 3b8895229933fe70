"""Domain errors and their one mapping to RFC 9457 problem+json responses.

Services raise subclasses of `DomainError`; nothing below a router raises HTTPException.
Every other failure (framework 404/405/422, an unexpected exception) is answered here too,
so a client only ever sees problem+json, and never a stack trace or SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from townsquare.db.outage import OUTAGE

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:townsquare:problem:"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    headers: Mapping[str, str] = {}

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Not authenticated"
    headers: Mapping[str, str] = {"WWW-Authenticate": "Bearer"}


class Unavailable(DomainError):
    """The database (or the job queue in it) cannot be reached: the client's cue to retry."""

    status = 503
    code = "unavailable"
    title = "Service Unavailable"
    headers: Mapping[str, str] = {"Retry-After": "1"}

    def __init__(self) -> None:
        super().__init__("The database is unavailable; try again shortly.")


class InvalidRequest(DomainError):
    """A well-formed request the rules do not allow (e.g. following yourself)."""

    status = 422
    code = "invalid-request"
    title = "Invalid request"

    def __init__(self, detail: str, *, loc: Sequence[str | int] = ()) -> None:
        super().__init__(detail)
        self.loc = list(loc)


def problem_response(
    status: int,
    *,
    detail: str,
    title: str | None = None,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body = Problem(
        type=PROBLEM_TYPE_BASE + code if code else "about:blank",
        title=title or phrase,
        status=status,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


class ErrorShape(Protocol):
    """How a client surface writes an error: problem+json is the native API's; another
    surface (the Mastodon API: `{"error": ...}`) registers its own for its path prefixes."""

    def __call__(
        self,
        status: int,
        *,
        detail: str,
        code: str | None,
        errors: list[FieldError] | None,
        headers: Mapping[str, str] | None,
    ) -> Response: ...


def _problem_shape(
    status: int,
    *,
    detail: str,
    code: str | None,
    errors: list[FieldError] | None,
    headers: Mapping[str, str] | None,
    title: str | None = None,
) -> Response:
    return problem_response(status, detail=detail, title=title, code=code, errors=errors, headers=headers)


def _error_response(
    request: Request,
    status: int,
    *,
    detail: str,
    title: str | None = None,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    path = request.url.path
    shapes: Mapping[str, ErrorShape] = getattr(request.app.state, "error_shapes", {})
    for prefix, shape in shapes.items():
        if path.startswith(prefix):
            return shape(status, detail=detail, code=code, errors=errors, headers=headers)
    return _problem_shape(status, detail=detail, title=title, code=code, errors=errors, headers=headers)


def add_error_shape(app: FastAPI, prefixes: Sequence[str], shape: ErrorShape) -> None:
    """Answer errors of requests under these path prefixes in another shape than problem+json."""
    shapes: dict[str, ErrorShape] = getattr(app.state, "error_shapes", {})
    app.state.error_shapes = {**shapes, **dict.fromkeys(prefixes, shape)}


def _field_errors(errors: Sequence[Any]) -> list[FieldError]:
    """One error per field, at the field's own path. An optional field (`X | None`) that fails
    is reported by pydantic once per member of the union, under the member's tag: ("bio",
    "constrained-str") "Input should be a valid string" and ("bio", "none") "Input should be
    None". The None member's is noise: dropped, and the other's tag with it."""
    optional = {tuple(error["loc"][:-1]) for error in errors if error["type"] == "none_required"}
    fields: list[FieldError] = []
    reported: set[tuple[Any, ...]] = set()
    for error in errors:
        loc = tuple(error["loc"])
        if loc[:-1] in optional:
            if error["type"] == "none_required" or loc[:-1] in reported:
                continue  # the first other member's error says it
            loc = loc[:-1]
            reported.add(loc)
        # Only location, message and type: pydantic's `input` may hold a submitted password.
        fields.append(FieldError(loc=list(loc), msg=error["msg"].removeprefix("Value error, "), type=error["type"]))
    return fields


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    errors = None
    if isinstance(exc, InvalidRequest) and exc.loc:
        errors = [FieldError(loc=exc.loc, msg=exc.detail, type="value_error")]
    return _error_response(
        request, exc.status, detail=exc.detail, title=exc.title, code=exc.code, errors=errors, headers=exc.headers
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _error_response(
        request,
        422,
        detail="The request is not valid; see errors.",
        code="validation",
        title="Validation failed",
        errors=_field_errors(exc.errors()),
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette names the methods of the first route with this path; a path has several.
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return _error_response(request, exc.status_code, detail=detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route answers at this request's path."""
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.router.routes
        )
    ]


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    # Connection-level failures (database down or restarting, no free connection in the pool,
    # a deadlock victim) are the client's cue to retry; anything else is a bug and a 500.
    if isinstance(exc, OperationalError | PoolTimeout) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        OUTAGE.failed("requests", type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__)
        return await _domain_error(request, Unavailable())
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ResponseValidationError | ValidationError):
        # Its message holds the values that did not fit (a token pair, say): where and why only.
        where = [(error["loc"], error["type"]) for error in exc.errors()]
        log.error("unhandled error on %s %s: invalid data at %s", request.method, request.url.path, where)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(request, 500, detail="An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}, "required": True}


# Headers that always come with these statuses.
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": _header("`Bearer`: send an access token.")},
    429: {
        "Retry-After": _header("Seconds until the request would be counted again."),
        "RateLimit-Policy": _header('The limit\'s windows, e.g. `"writes-user-60s";q=60;w=60`.'),
        "RateLimit": _header('What is left in the tightest window: `"writes-user-60s";r=0;t=42`.'),
    },
    503: {"Retry-After": _header("Seconds to wait before trying again.")},
}


def problem_docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses an operation can answer."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            **({"headers": PROBLEM_HEADERS[status]} if status in PROBLEM_HEADERS else {}),
        }
        for status in statuses
    }
