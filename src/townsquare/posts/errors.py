from townsquare.kit.errors import Forbidden, NotFound, Unauthorized


class PostNotFound(NotFound):
    code = "post-not-found"
    title = "Post not found"


class NotPostAuthor(Forbidden):
    code = "not-post-author"
    title = "Not the author"

    def __init__(self) -> None:
        super().__init__("Only the author can change or delete this post.")


class AccountGone(Unauthorized):
    code = "account-gone"
    title = "Account deleted"

    def __init__(self) -> None:
        super().__init__("The account was deleted.")
