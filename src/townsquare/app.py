"""The application factory."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from townsquare import health
from townsquare.auth.limits import Limits
from townsquare.auth.passwords import Passwords
from townsquare.auth.router import router as auth_router
from townsquare.auth.tokens import TokenIssuer
from townsquare.config import Settings, get_settings
from townsquare.db import outage
from townsquare.db.session import Database
from townsquare.db.urls import libpq_url
from townsquare.feed.router import HOT_ROUTES as FEED_HOT_ROUTES
from townsquare.feed.router import router as feed_router
from townsquare.interactions.router import router as interactions_router
from townsquare.kit.body_limit import RejectLargeBodies
from townsquare.kit.errors import install_error_handlers
from townsquare.kit.headers import SecurityHeaders
from townsquare.kit.hot_routes import HotRoutes
from townsquare.kit.openapi import with_problem_media_type
from townsquare.kit.signals import on_exit_signals
from townsquare.mastodon import router as mastodon
from townsquare.notifications.hub import NotificationHub
from townsquare.notifications.router import router as notifications_router
from townsquare.observability import metrics
from townsquare.observability.logs import configure_logging
from townsquare.observability.requests import add_request_telemetry
from townsquare.posts.router import HOT_ROUTES as POSTS_HOT_ROUTES
from townsquare.posts.router import router as posts_router
from townsquare.safety.moderation import router as moderation_router
from townsquare.safety.router import router as safety_router
from townsquare.search.router import router as search_router
from townsquare.users.router import router as users_router
from townsquare.web import STATIC as WEB_STATIC
from townsquare.web import router as web_router
from townsquare.web.render import Refused, refused
from townsquare.worker.queue import JobQueue

DESCRIPTION = """
A social media backend: accounts, profiles, follows, posts, likes, comments, a home feed and
notifications (a list and a live Server-Sent Events stream), and search. Errors are RFC 9457
`application/problem+json`. Use **Authorize** with your email or username and password to try
the endpoints that need a token.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)  # here, so that every way of serving the app logs the same
    if settings.database_url is None:
        raise RuntimeError(
            "No database configured: set DATABASE_URL, or start the server with `townsquare run`, "
            "which starts an embedded PostgreSQL when DATABASE_URL is unset."
        )
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:  # unwound in reverse, every step run
            stack.callback(metrics.forget_this_process)
            app.state.database = database = Database(database_url, settings.db)
            metrics.watch_pool(database.engine, settings.db.pool_size)
            outage.watch(database.engine)
            stack.push_async_callback(database.dispose)
            stack.push_async_callback(app.state.limits.limiter.close)
            await app.state.passwords.warm_up()
            app.state.hub = hub = NotificationHub(libpq_url(database_url))
            await hub.start()
            stack.push_async_callback(hub.stop)
            app.state.jobs = jobs = JobQueue(database_url, settings.worker)
            if settings.worker.in_process:
                await jobs.start_worker(database, name=f"api-{socket.gethostname()}-{os.getpid()}")
                stack.push_async_callback(jobs.stop_worker)
            # The server waits for open requests before shutting down: streams must end first.
            stack.enter_context(on_exit_signals(hub.close_streams))
            yield

    docs = settings.docs_enabled
    # With docs: Swagger UI and ReDoc from fastapi-offline's own copies of their files (under
    # /static-offline-docs), so /docs works on a machine without internet; FastAPI's load them
    # from a CDN.
    app = (FastAPIOffline if docs else FastAPI)(
        title="Townsquare",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.passwords = Passwords(settings.auth)
    app.state.tokens = TokenIssuer(settings.auth, settings.jwt_secret())
    app.state.limits = Limits.from_settings(settings)
    install_error_handlers(app)
    if settings.server.hot_routes:  # innermost: every middleware below wraps them too
        app.add_middleware(HotRoutes, routes=[*FEED_HOT_ROUTES, *POSTS_HOT_ROUTES])
    app.add_middleware(RejectLargeBodies, max_bytes=settings.server.max_body_bytes)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            # Browsers hide other response headers from scripts; clients need these.
            expose_headers=["Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate", "X-Request-ID"],
            max_age=600,
        )
    if settings.mastodon.enabled:
        mastodon.install(app)
    app.add_middleware(SecurityHeaders)
    add_request_telemetry(app)  # request id, log line, latency; around all of the above
    if settings.server.trusted_proxies:
        # Outermost: the client's address and scheme are known before anything else runs.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.server.trusted_proxies)
    app.include_router(health.router)
    if settings.metrics.enabled:
        app.include_router(metrics.router)
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(posts_router)
    app.include_router(feed_router)
    app.include_router(interactions_router)
    app.include_router(notifications_router)
    app.include_router(search_router)
    app.include_router(safety_router)
    app.include_router(moderation_router)
    app.include_router(web_router)
    app.add_exception_handler(Refused, refused)
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="web-static")
    with_problem_media_type(app)
    return app
