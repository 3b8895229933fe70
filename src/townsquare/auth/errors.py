from townsquare.kit.errors import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid-credentials"
    title = "Invalid credentials"

    def __init__(self) -> None:
        # One message for unknown account and wrong password alike.
        super().__init__("Incorrect username, email or password.")


class InvalidToken(Unauthorized):
    code = "invalid-token"
    title = "Invalid token"

    def __init__(self, detail: str = "The token is missing, malformed, expired or revoked.") -> None:
        super().__init__(detail)


class WrongPassword(Forbidden):
    code = "wrong-password"
    title = "Wrong password"

    def __init__(self) -> None:
        super().__init__("The password is not correct.")


class AccountSuspended(Forbidden):
    code = "account-suspended"
    title = "Account suspended"

    def __init__(self) -> None:
        # Said only after the right password: it tells the account's owner, nobody else.
        super().__init__("This account is suspended by the server's moderators.")
