from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from townsquare.db.ids import MAX_ID
from townsquare.kit.schemas import Id, RequestModel, ResponseModel, Timestamp
from townsquare.users.schemas import UserSummary

# An id in a request body: a number, or its decimal string (as ids are answered).
IdInput = Annotated[int, Field(ge=1, le=MAX_ID, examples=["170399012345678"])]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
# Ten years: "for ever" is null (or 0).
MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600


class MuteWrite(RequestModel):
    """Optional: without a body, a mute of posts and notifications until lifted."""

    notifications: bool = Field(default=True, description="Also hide their notifications (else only posts).")
    duration_seconds: int | None = Field(
        default=None, ge=0, le=MAX_MUTE_SECONDS, description="How long the mute lasts; null or 0: until lifted."
    )


class MutedUser(UserSummary):
    notifications: bool
    expires_at: Timestamp | None


class ReportWrite(RequestModel):
    """One target: an account, a post or a comment (the account is then its author)."""

    account_id: IdInput | None = None
    post_id: IdInput | None = None
    comment_id: IdInput | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_target(self) -> "ReportWrite":
        if sum(target is not None for target in (self.account_id, self.post_id, self.comment_id)) != 1:
            raise ValueError("name exactly one of account_id, post_id and comment_id")
        return self


class ReportView(ResponseModel):
    """A report as its reporter sees it."""

    id: Id
    account_id: Id
    post_id: Id | None
    comment_id: Id | None
    reason: str
    created_at: Timestamp


class ModeratedReport(ReportView):
    """A report as moderators see it: who made it, the reported text as it was, its resolution."""

    reporter: UserSummary | None = Field(description="null once the reporter's account is gone")
    account: UserSummary
    content: str | None = Field(description="The reported post's or comment's text when it was reported.")
    status: Literal["open", "resolved"]
    resolved_at: Timestamp | None
    resolved_by: UserSummary | None
    resolution: str | None


class Resolution(RequestModel):
    note: Note = Field(default="", description="What was done, for the audit log and other moderators.")


class Suspension(RequestModel):
    reason: Reason


class ModeratedAccount(UserSummary):
    role: Literal["user", "moderator"]
    suspended_at: Timestamp | None
    created_at: Timestamp


class AuditEntry(ResponseModel):
    id: Id
    moderator: str = Field(description="The moderator's username then, or `(command line)`.")
    moderator_id: Id | None
    action: str
    account_id: Id | None
    post_id: Id | None
    comment_id: Id | None
    report_id: Id | None
    note: str | None
    created_at: Timestamp
