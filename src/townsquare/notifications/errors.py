from townsquare.kit.errors import Forbidden


class NotYourNotifications(Forbidden):
    code = "not-your-notifications"
    title = "Not your notifications"

    def __init__(self) -> None:
        super().__init__("Only the owner can read or change their notifications.")
