"""The Mastodon surface, mounted on the app by `install`."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from townsquare.kit.errors import add_error_shape
from townsquare.mastodon import (
    PREFIXES,
    accounts,
    instance,
    misc,
    notifications,
    oauth,
    safety,
    search,
    statuses,
    streaming,
    timelines,
)
from townsquare.mastodon.errors import mastodon_error

# Routes are matched in order, one by one: the most requested first (the home timeline's
# request tried some 90 routes before its own when it came fifth: a quarter of its API CPU).
PARTS = (timelines, notifications, statuses, accounts, safety, streaming, search, instance, oauth, misc)
router = APIRouter(include_in_schema=False)  # Mastodon's own documentation is its contract
for part in PARTS:
    router.include_router(part.router)


PAGE = "/oauth/authorize"


class MastodonCORS:
    """Any origin may call the Mastodon API, as on Mastodon: web clients (Phanpy, Elk) run on
    their own origins, and app tokens travel as bearer headers, never as cookies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept"],
            expose_headers=["Link", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-ID"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Not the authorization page: a page of ours, for people, never for other sites' scripts.
        path = scope["path"] if scope["type"] == "http" else ""
        if path.startswith(PREFIXES) and not path.startswith(PAGE):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    app.include_router(router)
    add_error_shape(app, PREFIXES, mastodon_error)
    app.add_middleware(MastodonCORS)
