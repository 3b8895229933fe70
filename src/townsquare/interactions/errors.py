from townsquare.kit.errors import Forbidden, NotFound


class CommentNotFound(NotFound):
    code = "comment-not-found"
    title = "Comment not found"


class NotCommentModerator(Forbidden):
    code = "not-comment-moderator"
    title = "Not allowed"

    def __init__(self) -> None:
        super().__init__("Only the comment's author or the post's author can delete it.")
