"""The moderators' API: the reports queue, removing content, suspending accounts, the audit log.

Moderators are accounts with the moderator role, which only an operator grants (`townsquare
admin grant-moderator USER`); everyone else gets 403. Every action is written to the audit log
in the action's own transaction.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Response, status

from townsquare.auth.dependencies import CurrentViewer, Writer
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.interactions.dependencies import CommentRef, comment_id_of
from townsquare.kit.errors import problem_docs
from townsquare.kit.openapi import DocumentedRoute, answers
from townsquare.kit.pagination import DEFAULT_LIMIT, CursorParam, Limit, Page, decode_id_cursor
from townsquare.posts.dependencies import PostRef, post_id_of
from townsquare.safety import service
from townsquare.safety.errors import ReportNotFound
from townsquare.safety.schemas import AuditEntry, ModeratedAccount, ModeratedReport, Resolution, Suspension
from townsquare.users.errors import UserNotFound

router = APIRouter(prefix="/moderation", tags=["moderation"], route_class=DocumentedRoute)


@answers(403)
async def _moderator(session: SessionDep, viewer: CurrentViewer) -> service.Moderator:
    return await service.moderator(session, user_id=viewer.id)


@answers(403)
async def _acting_moderator(session: SessionDep, viewer: Writer) -> service.Moderator:
    return await service.moderator(session, user_id=viewer.id)


# A moderator reading; one acting (under the writes-per-user rate limit).
Moderator = Annotated[service.Moderator, Depends(_moderator)]
ActingModerator = Annotated[service.Moderator, Depends(_acting_moderator)]
ReportRef = Annotated[str, Path(description="A report id.", max_length=20)]
UserRef = Annotated[str, Path(description="A user id.", max_length=20)]
# A note for the audit log, optional: `{"note": "..."}`.
NoteBody = Annotated[Resolution | None, Body()]


def _user_id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise UserNotFound()
    return found


def _report_id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise ReportNotFound()
    return found


@router.get("/reports", response_model=Page[ModeratedReport], responses=problem_docs(401))
@reads_only
async def reports(
    session: SessionDep,
    moderator: Moderator,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[ModeratedReport]:
    """The reports queue, newest first: the open ones unless `status` says otherwise."""
    items, next_cursor = await service.reports_page(
        session, status=status, before=decode_id_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/reports/{report_id}", response_model=ModeratedReport, responses=problem_docs(401, 404))
@reads_only
async def report(report_id: ReportRef, session: SessionDep, moderator: Moderator) -> ModeratedReport:
    return await service.get_report(session, report_id=_report_id(report_id))


@router.post("/reports/{report_id}/resolve", response_model=ModeratedReport, responses=problem_docs(401, 404, 409, 422))
async def resolve_report(
    report_id: ReportRef, session: SessionDep, moderator: ActingModerator, body: NoteBody = None
) -> ModeratedReport:
    """Close an open report, with a note of what was done (409 if it was closed already)."""
    note = body.note if body else ""
    return await service.resolve_report(session, moderator, report_id=_report_id(report_id), note=note)


@router.delete(
    "/posts/{post_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404, 422),
)
async def remove_post(post_id: PostRef, session: SessionDep, moderator: ActingModerator, body: NoteBody = None) -> None:
    """Remove anyone's post, with its likes and comments (the reports on it keep its text)."""
    note = body.note if body else ""
    await service.remove_post(session, moderator, post_id=post_id_of(post_id), note=note)


@router.delete(
    "/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404, 422),
)
async def remove_comment(
    comment_id: CommentRef, session: SessionDep, moderator: ActingModerator, body: NoteBody = None
) -> None:
    """Remove anyone's comment."""
    note = body.note if body else ""
    await service.remove_comment(session, moderator, comment_id=comment_id_of(comment_id), note=note)


@router.get("/users/{user_id}", response_model=ModeratedAccount, responses=problem_docs(401, 404))
@reads_only
async def account(user_id: UserRef, session: SessionDep, moderator: Moderator) -> ModeratedAccount:
    """An account as moderators see it: its role and whether it is suspended (suspended
    accounts are absent everywhere else)."""
    return await service.moderated_account(session, user_id=_user_id(user_id))


@router.put("/users/{user_id}/suspension", response_model=ModeratedAccount, responses=problem_docs(401, 404, 409, 422))
async def suspend(
    user_id: UserRef, body: Suspension, session: SessionDep, moderator: ActingModerator
) -> ModeratedAccount:
    """Suspend an account (idempotent), with a reason: every login of it ends at once, it
    cannot sign in, and it and everything it wrote are hidden from everyone until lifted.
    Follows, likes and counts stay as they were. A moderator cannot be suspended (409)."""
    return await service.suspend(session, moderator, user_id=_user_id(user_id), reason=body.reason)


@router.delete(
    "/users/{user_id}/suspension",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_docs(401, 404),
)
async def unsuspend(user_id: UserRef, session: SessionDep, moderator: ActingModerator) -> None:
    """Lift a suspension (idempotent): the account and its content are back as they were."""
    await service.unsuspend(session, moderator, user_id=_user_id(user_id))


@router.get("/audit", response_model=Page[AuditEntry], responses=problem_docs(401))
@reads_only
async def audit(
    session: SessionDep,
    moderator: Moderator,
    limit: Limit = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[AuditEntry]:
    """The audit log, newest first: every moderator action (and every grant or revocation of
    the role on the command line), who did it and when."""
    items, next_cursor = await service.audit_page(session, before=decode_id_cursor(cursor), limit=limit)
    return Page(items=items, next_cursor=next_cursor)
