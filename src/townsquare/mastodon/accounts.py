"""Accounts: the signed-in user's own, profiles, their posts and follows, relationships,
registration through an app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from townsquare.auth import service as auth_service
from townsquare.auth.dependencies import PasswordsDep, Viewer
from townsquare.auth.limits import LimitsDep
from townsquare.auth.schemas import Registration
from townsquare.db.ids import parse_id
from townsquare.db.session import SessionDep, reads_only
from townsquare.kit.rate_limits import client_address
from townsquare.mastodon import entities, search
from townsquare.mastodon.auth import Access, app_or_user, maybe_user, user
from townsquare.mastodon.errors import RecordNotFound, Unprocessable
from townsquare.mastodon.instance import base_url
from townsquare.mastodon.oauth import lifetime
from townsquare.mastodon.paging import LongWindow, StatusWindow, Window
from townsquare.mastodon.params import Params, params
from townsquare.mastodon.statuses import account_page, posts_page
from townsquare.oauth import service as oauth
from townsquare.safety import service as safety_service
from townsquare.users import service as users_service
from townsquare.users.errors import EmailTaken, UsernameTaken, UserNotFound
from townsquare.users.schemas import ProfileUpdate
from townsquare.worker.dependencies import JobsDep

router = APIRouter()

ReadAccounts = Annotated[Viewer | None, Depends(maybe_user("read:accounts"))]
AccountPath = Annotated[str, Query(max_length=20)]


def account_id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise RecordNotFound("Record not found")
    return found


async def _own_account(request: Request, session: SessionDep, viewer: Viewer) -> Response:
    me = await users_service.get(session, user_id=viewer.id)
    if me is None:
        raise RecordNotFound("Record not found")
    return JSONResponse(entities.credential_account(base_url(request), me))


@router.get("/api/v1/accounts/verify_credentials")
@reads_only
async def verify_credentials(
    request: Request, session: SessionDep, viewer: Annotated[Viewer, Depends(user("profile"))]
) -> Response:
    return await _own_account(request, session, viewer)


class CredentialsUpdate(Params):
    note: str | None = None
    display_name: str | None = Field(default=None, max_length=30)


@router.patch("/api/v1/accounts/update_credentials")
@router.put("/api/v1/accounts/update_credentials")
async def update_credentials(
    request: Request,
    body: Annotated[CredentialsUpdate, Depends(params(CredentialsUpdate))],
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("write:accounts", writes=True))],
) -> Response:
    # The bio is `note`. There is no display name here: the username is shown in its place,
    # so a display name is accepted and not kept (a username change is the native API's).
    if body.note is not None:
        try:
            changes = ProfileUpdate(bio=body.note)
        except ValueError:
            raise Unprocessable("Validation failed: Note is too long (maximum is 300 characters)") from None
        await users_service.update_profile(session, user_id=viewer.id, editor_id=viewer.id, changes=changes)
    return await _own_account(request, session, viewer)


@router.get("/api/v1/accounts/lookup")
@reads_only
async def lookup(
    request: Request, session: SessionDep, viewer: ReadAccounts, acct: Annotated[str, Query(max_length=400)] = ""
) -> Response:
    username = acct.removeprefix("@")
    name, _, domain = username.partition("@")
    if domain and domain != request.url.netloc and domain != request.url.hostname:
        raise RecordNotFound("Record not found")  # not one of ours: this server does not federate
    found = await users_service.find_visible(session, name, viewer_id=viewer.id if viewer else None)
    if found is None:
        raise RecordNotFound("Record not found")
    return JSONResponse(entities.account_of(base_url(request), found))


@router.get("/api/v1/accounts/search")
@reads_only
async def search_accounts(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer | None, Depends(maybe_user("read:accounts"))],
    q: Annotated[str, Query(max_length=2000)] = "",
    limit: Annotated[str | None, Query(max_length=10)] = None,
    offset: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Accounts by name, for mention and follow autocompletion (`resolve` and `following` are
    ignored: there is nothing remote here, and every match is offered)."""
    found, _ = await search.find(
        base_url(request), session, q=q.removeprefix("@"), wanted="users", limit=limit, offset=offset, viewer=viewer
    )
    return JSONResponse(found)


@router.get("/api/v1/accounts/familiar_followers")
@reads_only
async def familiar_followers(viewer: Annotated[Viewer, Depends(user("read:follows"))]) -> Response:
    return JSONResponse([])


@router.get("/api/v1/accounts/relationships")
@reads_only
async def relationships(
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer, Depends(user("read:follows"))],
    ids: Annotated[list[str], Query(alias="id[]", max_length=100)] = [],  # noqa: B006 - FastAPI copies defaults
    one: Annotated[list[str], Query(alias="id", max_length=100)] = [],  # noqa: B006
) -> Response:
    wanted = [found for raw in [*ids, *one] if (found := parse_id(raw)) is not None]
    return JSONResponse(await relationships_of(session, viewer, list(dict.fromkeys(wanted))))


async def relationships_of(session: AsyncSession, viewer: Viewer, user_ids: list[int]) -> list[entities.Json]:
    """The viewer's Relationships with the users among `user_ids` they may know of
    (townsquare.visibility: not those hidden from them, but those they blocked themselves)."""
    known = await users_service.relationships(session, viewer_id=viewer.id, user_ids=user_ids)
    safety = await safety_service.relations(session, viewer_id=viewer.id, user_ids=user_ids)
    return [
        entities.relationship(
            user_id,
            following=known[user_id][0],
            followed_by=known[user_id][1],
            blocking=safety[user_id].blocking,
            muting=safety[user_id].muting,
            muting_notifications=safety[user_id].muting_notifications,
        )
        for user_id in user_ids
        if user_id in known and user_id in safety
    ]


class AccountRegistration(Params):
    username: str = ""
    email: str = ""
    password: str = ""
    agreement: bool = False
    note: str = ""
    reason: str | None = None


@router.post("/api/v1/accounts")
async def register(
    request: Request,
    limits: LimitsDep,
    body: Annotated[AccountRegistration, Depends(params(AccountRegistration))],
    session: SessionDep,
    passwords: PasswordsDep,
    access: Annotated[Access, Depends(app_or_user("write:accounts"))],
) -> Response:
    """Sign up through an app (its `client_credentials` token): answers with a user token."""
    if not body.agreement:
        raise Unprocessable("Validation failed: Agreement must be accepted")
    try:
        valid = Registration(email=body.email, username=body.username, password=body.password, bio=body.note)
    except ValueError as error:
        raise Unprocessable(f"Validation failed: {_first_problem(error)}") from None
    if access.app_id is None:
        raise Unprocessable("Registration needs an app's token")
    app = await oauth.app_by_id(session, access.app_id)
    assert app is not None  # the token was just found, and its app with it
    try:
        created = await auth_service.register(
            session,
            passwords,
            limits,
            address=client_address(request),
            email=valid.email,
            username=valid.username,
            password=valid.password,
            bio=valid.bio,
        )
    except (UsernameTaken, EmailTaken) as taken:
        field = "Username" if isinstance(taken, UsernameTaken) else "Email"
        raise Unprocessable(f"Validation failed: {field} has already been taken") from None
    grant = await oauth.grant_for_user(
        session, app=app, user_id=created.id, scope=list(access.scopes), lifetime=lifetime(request)
    )
    return JSONResponse(
        {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
            "created_at": int(grant.created_at.timestamp()),
        }
    )


def _first_problem(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])} {first['msg']}"
    return str(error)


@router.get("/api/v1/accounts/{account}")
@reads_only
async def get_account(account: str, request: Request, session: SessionDep, viewer: ReadAccounts) -> Response:
    try:
        found, _ = await users_service.get_profile(
            session, user_id=account_id(account), viewer_id=viewer.id if viewer else None
        )
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    return JSONResponse(entities.account_of(base_url(request), found))


@router.get("/api/v1/accounts/{account}/statuses")
@reads_only
async def account_statuses(
    account: str,
    request: Request,
    session: SessionDep,
    viewer: Annotated[Viewer | None, Depends(maybe_user("read:statuses"))],
    w: StatusWindow,
    pinned: bool = False,
    only_media: bool = False,
) -> Response:
    author_id = account_id(account)
    if pinned or only_media:  # nothing is pinned here, and there is no media
        try:
            await users_service.ensure_visible(session, user_id=author_id, viewer_id=viewer.id if viewer else None)
        except UserNotFound:
            raise RecordNotFound("Record not found") from None
        return JSONResponse([])
    try:
        return await posts_page(request, session, author_id=author_id, viewer=viewer, w=w)
    except UserNotFound:
        raise RecordNotFound("Record not found") from None


async def _follow_list(
    request: Request, session: SessionDep, viewer: Viewer | None, account: str, *, followers: bool, w: Window
) -> Response:
    try:
        summaries, cursor = await users_service.follow_page(
            session,
            user_id=account_id(account),
            viewer_id=viewer.id if viewer else None,
            followers=followers,
            before=w.before,
            limit=w.limit,
        )
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    return await account_page(request, session, [summary.id for summary in summaries], cursor)


@router.get("/api/v1/accounts/{account}/followers")
@reads_only
async def followers(
    account: str,
    request: Request,
    session: SessionDep,
    viewer: ReadAccounts,
    w: LongWindow,
) -> Response:
    return await _follow_list(request, session, viewer, account, followers=True, w=w)


@router.get("/api/v1/accounts/{account}/following")
@reads_only
async def following(
    account: str,
    request: Request,
    session: SessionDep,
    viewer: ReadAccounts,
    w: LongWindow,
) -> Response:
    return await _follow_list(request, session, viewer, account, followers=False, w=w)


async def relationship(session: AsyncSession, viewer: Viewer, user_id: int) -> Response:
    """The viewer's Relationship with the user (after an action on them); 404 if hidden."""
    found = await relationships_of(session, viewer, [user_id])
    if not found:
        raise RecordNotFound("Record not found")
    return JSONResponse(found[0])


Follower = Annotated[Viewer, Depends(user("write:follows", writes=True))]


@router.post("/api/v1/accounts/{account}/follow")
async def follow(account: str, session: SessionDep, jobs: JobsDep, viewer: Follower) -> Response:
    followed_id = account_id(account)
    try:
        await users_service.follow(session, jobs, follower_id=viewer.id, followed_id=followed_id)
    except UserNotFound:
        raise RecordNotFound("Record not found") from None
    return await relationship(session, viewer, followed_id)


@router.post("/api/v1/accounts/{account}/unfollow")
async def unfollow(account: str, session: SessionDep, viewer: Follower) -> Response:
    followed_id = account_id(account)
    await users_service.unfollow(session, follower_id=viewer.id, followed_id=followed_id)
    return await relationship(session, viewer, followed_id)
