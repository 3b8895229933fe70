from townsquare.kit.errors import Conflict, Forbidden, InvalidRequest, NotFound


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "User not found"


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "Username taken"

    def __init__(self) -> None:
        super().__init__("That username is already taken.")


class EmailTaken(Conflict):
    code = "email-taken"
    title = "Email taken"

    def __init__(self) -> None:
        super().__init__("An account with that email already exists.")


class CannotFollowSelf(InvalidRequest):
    code = "cannot-follow-self"
    title = "Cannot follow yourself"

    def __init__(self) -> None:
        super().__init__("You cannot follow yourself.", loc=("path", "user_id"))


class NotProfileOwner(Forbidden):
    code = "not-profile-owner"
    title = "Not your profile"

    def __init__(self) -> None:
        super().__init__("You can only change your own profile.")
