"""Errors on the Mastodon surface: `{"error": "..."}` with Mastodon's status codes, always
`application/json` (masto.js refuses any other type), never a stack trace."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse, Response

from townsquare.kit.errors import DomainError, FieldError

OAUTH_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
        "unauthorized_client",
    }
)


def mastodon_error(
    status: int,
    *,
    detail: str,
    code: str | None,
    errors: list[FieldError] | None,
    headers: Mapping[str, str] | None,
) -> Response:
    if code in OAUTH_CODES:
        body: dict[str, object] = {"error": code, "error_description": detail}
    elif errors:
        body = {"error": "Validation failed: " + "; ".join(_field_message(error) for error in errors)}
    else:
        body = {"error": detail}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _field_message(error: FieldError) -> str:
    # ["body", "status"] -> "status"; query and path names alike.
    where = ".".join(str(part) for part in error.loc if part not in ("body", "query", "path", "header"))
    return f"{where} {error.msg}".strip() if where else error.msg


class RecordNotFound(DomainError):
    status = 404
    code = "record-not-found"
    title = "Record not found"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"
    title = "Unprocessable"


class InvalidAccessToken(DomainError):
    status = 401
    code = "invalid-access-token"
    title = "The access token is invalid"
    headers: Mapping[str, str] = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class OutsideScopes(DomainError):
    status = 403
    code = "outside-scopes"
    title = "This action is outside the authorized scopes"


class NeedsUser(DomainError):
    status = 422
    code = "needs-user"
    title = "This method requires an authenticated user"


class Disabled(DomainError):
    """What this server does not have (boosts, polls, media ...), as Mastodon answers a feature
    turned off on an instance."""

    status = 422
    code = "disabled"
    title = "This server does not support this feature"
