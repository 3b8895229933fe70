"""Routes that document every problem status they can answer.

Routers document their own domain answers (404, 403, 409 ...). The statuses that follow from
an operation's shape are added by `DocumentedRoute`, so none is forgotten: 422 for any input;
400 and 413 for a body (undecodable; over the size limit); 401 where a token is read; and what
the dependencies marked with `answers` give: 503 where the database is used, 429 where a rate
limit applies. Use it as `APIRouter(route_class=DocumentedRoute)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant, get_parameterless_sub_dependant
from fastapi.params import Depends
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase

from townsquare.kit.errors import PROBLEM_MEDIA_TYPE, problem_docs

F = TypeVar("F", bound=Callable[..., Any])

# Dependencies that can answer with problems of their own (the database: 503; rate limits: 429).
_DEPENDENCY_PROBLEMS: dict[Callable[..., Any], tuple[int, ...]] = {}


def answers(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency whose use means an operation may answer these problem statuses."""

    def mark(dependency: F) -> F:
        _DEPENDENCY_PROBLEMS[dependency] = statuses
        return dependency

    return mark


class DocumentedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        dependencies: Sequence[Depends] = options.get("dependencies") or ()
        dependants = [
            *_walk(get_dependant(path=path, call=endpoint)),
            *(
                d
                for depends in dependencies
                for d in _walk(get_parameterless_sub_dependant(depends=depends, path=path))
            ),
        ]
        # Statuses the router spelt out keep their own description.
        options["responses"] = {**problem_docs(*_problem_statuses(dependants)), **(options.get("responses") or {})}
        super().__init__(path, endpoint, **options)


def with_problem_media_type(app: FastAPI) -> None:
    """Document problems under application/problem+json, the type they are sent with.

    FastAPI files a response model under the route's own media type (application/json, or
    text/event-stream for a stream).
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # made once and kept by FastAPI; moving is idempotent
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if (
                        str(status).isdigit()
                        and int(status) >= 400
                        and PROBLEM_MEDIA_TYPE in content
                        and len(content) > 1
                    ):
                        route_type = next(media for media in content if media != PROBLEM_MEDIA_TYPE)
                        content[PROBLEM_MEDIA_TYPE] = content.pop(route_type)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def _problem_statuses(dependants: list[Dependant]) -> list[int]:
    statuses = []
    if any(d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params for d in dependants):
        statuses.append(422)
    if any(d.body_params for d in dependants):
        statuses += [400, 413]  # a body that cannot be decoded; one over the size limit
    if any(isinstance(d.call, SecurityBase) for d in dependants):
        statuses.append(401)
    for dependant in dependants:
        if dependant.call is not None:
            statuses += _DEPENDENCY_PROBLEMS.get(dependant.call, ())
    return sorted(set(statuses))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _walk(dependency)
