"""Blocks, mutes and reports, as Mastodon clients ask for them; the native safety rules
(townsquare.safety) decide."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from townsquare.auth.dependencies import Viewer
from townsquare.auth.limits import LimitsDep
from townsquare.db.session import SessionDep, reads_only
from townsquare.interactions import service as interactions_service
from townsquare.kit.schemas import format_timestamp
from townsquare.mastodon import entities
from townsquare.mastodon.accounts import account_id, relationship
from townsquare.mastodon.auth import user
from townsquare.mastodon.errors import RecordNotFound, Unprocessable
from townsquare.mastodon.instance import base_url
from townsquare.mastodon.paging import LongWindow
from townsquare.mastodon.params import Params, params
from townsquare.mastodon.statuses import account_page
from townsquare.safety import service as safety_service
from townsquare.safety.schemas import MAX_MUTE_SECONDS, ReportWrite
from townsquare.users import service as users_service
from townsquare.users.errors import UserNotFound

router = APIRouter()

Blocker = Annotated[Viewer, Depends(user("write:blocks", writes=True))]
Muter = Annotated[Viewer, Depends(user("write:mutes", writes=True))]


@router.post("/api/v1/accounts/{account}/block")
async def block(account: str, session: SessionDep, viewer: Blocker) -> Response:
    blocked_id = account_id(account)
    try:
        await safety_service.block(session, blocker_id=viewer.id, blocked_id=blocked_id)
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    return await relationship(session, viewer, blocked_id)


@router.post("/api/v1/accounts/{account}/unblock")
async def unblock(account: str, session: SessionDep, viewer: Blocker) -> Response:
    blocked_id = account_id(account)
    await safety_service.unblock(session, blocker_id=viewer.id, blocked_id=blocked_id)
    return await relationship(session, viewer, blocked_id)


class MuteParams(Params):
    notifications: bool = True
    duration: int = Field(default=0, ge=0, le=MAX_MUTE_SECONDS)  # seconds; 0: until lifted


@router.post("/api/v1/accounts/{account}/mute")
async def mute(
    account: str,
    session: SessionDep,
    viewer: Muter,
    body: Annotated[MuteParams, Depends(params(MuteParams))],
) -> Response:
    muted_id = account_id(account)
    try:
        await safety_service.mute(
            session,
            muter_id=viewer.id,
            muted_id=muted_id,
            notifications=body.notifications,
            duration_seconds=body.duration,
        )
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    return await relationship(session, viewer, muted_id)


@router.post("/api/v1/accounts/{account}/unmute")
async def unmute(account: str, session: SessionDep, viewer: Muter) -> Response:
    muted_id = account_id(account)
    await safety_service.unmute(session, muter_id=viewer.id, muted_id=muted_id)
    return await relationship(session, viewer, muted_id)


@router.get("/api/v1/blocks")
@reads_only
async def blocks(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("read:blocks"))],
    w: LongWindow,
) -> Response:
    found, cursor = await safety_service.blocks_page(session, blocker_id=viewer.id, before=w.before, limit=w.limit)
    return await account_page(request, session, [summary.id for summary in found], cursor)


@router.get("/api/v1/mutes")
@reads_only
async def mutes(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("read:mutes"))],
    w: LongWindow,
) -> Response:
    found, cursor = await safety_service.mutes_page(session, muter_id=viewer.id, before=w.before, limit=w.limit)
    return await account_page(request, session, [summary.id for summary in found], cursor)


class ReportParams(Params):
    account_id: str = ""
    status_ids: list[str] = Field(default=[], max_length=100)
    comment: str = Field(default="", max_length=1000)
    category: str | None = Field(default=None, max_length=40)


@router.post("/api/v1/reports")
async def report(
    request: Request,
    session: SessionDep,
    limits: LimitsDep,
    viewer: Annotated[Viewer, Depends(user("write:reports", writes=True))],
    body: Annotated[ReportParams, Depends(params(ReportParams))],
) -> Response:
    """A report of the account, or of the first of `status_ids` (a post or a comment of its):
    native reports have one target. The comment is the reason ("(no comment)" without one)."""
    reported = account_id(body.account_id)
    reason = body.comment.strip() or "(no comment)"
    try:
        target = ReportWrite(account_id=reported, reason=reason)
        if body.status_ids:
            status = account_id(body.status_ids[0])
            comments = await interactions_service.comments_by_ids(session, [status], viewer_id=viewer.id)
            target = ReportWrite(**{"comment_id" if comments else "post_id": status}, reason=reason)
    except ValueError:  # an id of 0, NUL in the comment
        raise Unprocessable("Validation failed: account_id, status_ids or comment") from None
    try:
        made = await safety_service.report(session, limits, reporter_id=viewer.id, body=target)
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    if made.account_id != reported:
        raise Unprocessable("Validation failed: the statuses must be the account's")
    account = await users_service.get(session, user_id=made.account_id)
    assert account is not None  # just reported, in this transaction
    return JSONResponse(
        {
            "id": str(made.id),
            "action_taken": False,
            "action_taken_at": None,
            "category": "other",
            "comment": body.comment,
            "forwarded": False,
            "created_at": format_timestamp(made.created_at),
            "status_ids": [str(made.post_id or made.comment_id)] if made.post_id or made.comment_id else None,
            "rule_ids": None,
            "target_account": entities.account_of(base_url(request), account),
        }
    )
