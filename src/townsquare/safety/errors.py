from townsquare.kit.errors import InvalidRequest


class CannotBlockSelf(InvalidRequest):
    code = "cannot-block-self"
    title = "Cannot block yourself"

    def __init__(self) -> None:
        super().__init__("You cannot block yourself.", loc=("path", "user_id"))
