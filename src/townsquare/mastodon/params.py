"""Mastodon's parameters: from the query and the body alike, in any of the encodings its
clients send (form, multipart, JSON), `key[]=` lists and `key[sub]=` maps, unknown keys ignored."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.datastructures import UploadFile

from townsquare.kit.errors import InvalidRequest
from townsquare.kit.schemas import no_nul

M = TypeVar("M", bound=BaseModel)


class Params(BaseModel):
    """A Mastodon request's parameters: unknown keys are ignored (every client sends some)."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _checked(value)


def _checked(value: Any) -> Any:
    """Refuse NUL anywhere: PostgreSQL text cannot hold it (lists and maps included)."""
    if isinstance(value, str):
        return no_nul(value)
    if isinstance(value, list):
        return [_checked(item) for item in value]
    if isinstance(value, dict):
        return {_checked(key): _checked(item) for key, item in value.items()}
    return value


def _put(into: dict[str, Any], key: str, value: Any) -> None:
    if key.endswith("[]"):
        into.setdefault(key[:-2], [])
        if isinstance(into[key[:-2]], list):
            into[key[:-2]].append(value)
        return
    name, bracket, rest = key.partition("[")
    if bracket and rest.endswith("]") and name:
        nested = into.setdefault(name, {})
        if isinstance(nested, dict):
            _put(nested, rest[:-1], value)
        return
    into[key] = value


async def collect(request: Request) -> dict[str, Any]:
    """Query parameters, then the body's (which win), as one mapping."""
    found: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        _put(found, key, value)
    if request.method in ("GET", "HEAD"):
        return found
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):  # RecursionError: nested past what Python parses
                raise InvalidRequest("The body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise InvalidRequest("The body must be a JSON object.")
            found.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        for key, item in form.multi_items():
            if not isinstance(item, UploadFile):  # no media here: files are ignored
                _put(found, key, item)
    return found


def params(model: type[M]) -> Callable[[Request], Coroutine[Any, Any, M]]:
    """A dependency that gives the request's parameters as `model` (422 when they do not fit)."""

    async def read(request: Request) -> M:
        try:
            return model.model_validate(await collect(request))
        except ValidationError as error:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_input=False)]
            ) from None

    return read
