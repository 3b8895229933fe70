from townsquare.kit.errors import Forbidden, NotFound


class NotYourNotifications(Forbidden):
    code = "not-your-notifications"
    title = "Not your notifications"

    def __init__(self) -> None:
        super().__init__("Only the owner can read or change their notifications.")


class NotificationNotFound(NotFound):
    code = "notification-not-found"
    title = "Notification not found"
