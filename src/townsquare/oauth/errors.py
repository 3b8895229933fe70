"""OAuth 2 errors (RFC 6749 5.2): `error` is the code clients match on."""

from typing import ClassVar

from townsquare.kit.errors import DomainError


class OAuthError(DomainError):
    status = 400
    code = "invalid_request"
    title = "Invalid request"
    oauth: ClassVar[bool] = True


class InvalidClient(OAuthError):
    status = 401
    code = "invalid_client"
    title = "Client authentication failed"

    def __init__(self) -> None:
        super().__init__("Client authentication failed due to unknown client or wrong client secret.")


class InvalidGrant(OAuthError):
    code = "invalid_grant"
    title = "Invalid grant"

    def __init__(self, detail: str = "The provided authorization grant is invalid, expired or revoked.") -> None:
        super().__init__(detail)


class InvalidScope(OAuthError):
    code = "invalid_scope"
    title = "Invalid scope"

    def __init__(self) -> None:
        super().__init__("The requested scope is invalid, unknown, or beyond what the app registered.")


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"
    title = "Unsupported grant type"

    def __init__(self) -> None:
        super().__init__("The authorization grant type is not supported by this server.")


class UnauthorizedClient(OAuthError):
    status = 403
    code = "unauthorized_client"
    title = "Unauthorized client"

    def __init__(self) -> None:
        super().__init__("You are not authorized to revoke this token.")
