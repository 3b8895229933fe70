"""The web client at `/`: server-rendered pages (Jinja2) over the same domain services.

A sign-in is an app session of the server's own web app (townsquare.oauth), kept in an
HttpOnly, SameSite=Lax cookie (Secure over TLS), so logout, password change and deletion end it
as they end every other login. Every form that changes state carries a CSRF token bound to
the session and must come from this site (Origin / Sec-Fetch-Site). Pages are served with a
Content-Security-Policy that allows only this server's own scripts and styles.
"""

from fastapi import APIRouter

from townsquare.web import account, notifications, people, posts, safety
from townsquare.web.render import HERE

STATIC = HERE / "static"

router = APIRouter(include_in_schema=False)
router.include_router(account.router)
router.include_router(notifications.router)
router.include_router(people.router)  # before posts: /@name/followers is no post
router.include_router(safety.router)  # ... and /@name/block is none either
router.include_router(posts.router)
