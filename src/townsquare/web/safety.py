"""Blocking, muting and reporting from a profile, and the settings' list of whom you blocked
and muted (where blocks are lifted: a blocked profile is absent for you too)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from townsquare.auth.limits import LimitsDep
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep
from townsquare.kit.errors import DomainError
from townsquare.safety import service as safety_service
from townsquare.safety.schemas import ReportWrite
from townsquare.users import service as users_service
from townsquare.web.render import FORM, Acting, error_page, go, message, not_found

router = APIRouter(include_in_schema=False)


@router.post("/@{username}/block")
@router.post("/@{username}/mute")
@router.post("/@{username}/unmute")
async def block_or_mute(request: Request, username: str, session: SessionDep, signed_in: Acting) -> Response:
    user = await users_service.find_visible(session, username, viewer_id=signed_in.viewer.id)
    if user is None:
        return not_found(request, signed_in, "account")
    action = request.url.path.rsplit("/", 1)[1]
    me = signed_in.viewer.id
    try:
        if action == "block":
            await safety_service.block(session, blocker_id=me, blocked_id=user.id)
        elif action == "mute":
            await safety_service.mute(session, muter_id=me, muted_id=user.id, notifications=True, duration_seconds=None)
        else:
            await safety_service.unmute(session, muter_id=me, muted_id=user.id)
    except DomainError as error:  # yourself
        return error_page(request, signed_in, error.status, message(error))
    # A blocked profile is gone for you too: the list where the block can be lifted.
    return go("/settings#blocked" if action == "block" else f"/@{user.username}")


@router.post("/@{username}/report", response_class=HTMLResponse)
async def report(
    request: Request, username: str, session: SessionDep, limits: LimitsDep, signed_in: Acting, reason: FORM = ""
) -> Response:
    user = await users_service.find_visible(session, username, viewer_id=signed_in.viewer.id)
    if user is None:
        return not_found(request, signed_in, "account")
    if not reason.strip():
        return error_page(request, signed_in, 422, "Say what is wrong, for the moderators.")
    try:
        body = ReportWrite(account_id=user.id, reason=reason)
        await safety_service.report(session, limits, reporter_id=signed_in.viewer.id, body=body)
    except DomainError as error:  # yourself, too many
        return error_page(request, signed_in, error.status, message(error))
    except ValueError:  # NUL
        return error_page(request, signed_in, 422, "The reason cannot be read.")
    return go(f"/@{user.username}?reported=1")


@router.post("/settings/unblock/{user_id}")
@router.post("/settings/unmute/{user_id}")
async def lift(request: Request, user_id: str, session: SessionDep, signed_in: Acting) -> Response:
    me, other = signed_in.viewer.id, parse_id(user_id)
    if other is None:
        return not_found(request, signed_in, "account")
    if "/unblock/" in request.url.path:
        await safety_service.unblock(session, blocker_id=me, blocked_id=other)
        return go("/settings#blocked")
    await safety_service.unmute(session, muter_id=me, muted_id=other)
    return go("/settings#muted")
