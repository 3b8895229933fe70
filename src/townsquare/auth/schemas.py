from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from townsquare.kit.schemas import RequestModel, ResponseModel
from townsquare.users.schemas import Bio, Username

MAX_PASSWORD_LENGTH = 128
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=MAX_PASSWORD_LENGTH)]
# A password being checked: anything longer than a valid one cannot match, so refuse it unhashed.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class Registration(RequestModel):
    email: Annotated[EmailStr, Field(max_length=320)]
    username: Username
    password: NewPassword
    bio: Bio = ""


class TokenPair(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PasswordChange(RequestModel):
    current_password: GivenPassword
    new_password: NewPassword


class AccountDeletion(RequestModel):
    password: GivenPassword
