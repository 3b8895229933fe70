"""Answers shaped by the endpoint itself, for the hottest reads."""

from __future__ import annotations

from typing import Any

import pydantic_core
from starlette.responses import Response


class PreparedJSONResponse(Response):
    """JSON of plain dicts, lists, strings and numbers that are already what the route's
    `response_model` would serialize to (ids as strings, formatted timestamps, flags left out).

    FastAPI passes a returned Response through: no model is built or validated, and nothing is
    encoded twice. The route keeps its `response_model` for OpenAPI; a test of each such route
    holds the two to the same bytes. Encoded by pydantic's own JSON writer, so the bytes are
    those a model would give.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return pydantic_core.to_json(content)
