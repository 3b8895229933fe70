from townsquare.kit.errors import Conflict, Forbidden, InvalidRequest, NotFound


class CannotBlockSelf(InvalidRequest):
    code = "cannot-block-self"
    title = "Cannot block yourself"

    def __init__(self) -> None:
        super().__init__("You cannot block yourself.", loc=("path", "user_id"))


class CannotMuteSelf(InvalidRequest):
    code = "cannot-mute-self"
    title = "Cannot mute yourself"

    def __init__(self) -> None:
        super().__init__("You cannot mute yourself.", loc=("path", "user_id"))


class CannotReportSelf(InvalidRequest):
    code = "cannot-report-self"
    title = "Cannot report yourself"

    def __init__(self) -> None:
        super().__init__("You cannot report yourself or what you wrote.", loc=("body",))


class NotModerator(Forbidden):
    code = "not-moderator"
    title = "Moderators only"

    def __init__(self) -> None:
        super().__init__("Only moderators can do this.")


class ReportNotFound(NotFound):
    code = "report-not-found"
    title = "Report not found"


class ReportResolved(Conflict):
    code = "report-resolved"
    title = "Report already resolved"

    def __init__(self) -> None:
        super().__init__("This report was already resolved (by another moderator?).")


class ModeratorProtected(Conflict):
    code = "is-moderator"
    title = "Account is a moderator"

    def __init__(self) -> None:
        super().__init__(
            "A moderator cannot be suspended: an operator revokes the role first (townsquare admin revoke-moderator)."
        )
