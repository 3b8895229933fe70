"""Whether a form post came from one of this server's own pages (against cross-site request
forgery, login CSRF included)."""

from __future__ import annotations

from starlette.requests import Request

# Pages with forms send this instead of the API's `no-referrer`: under `no-referrer` a browser
# sends `Origin: null` with a form post, and an older one (no Sec-Fetch-Site) could then not
# be told from a forgery.
FORM_PAGE_REFERRER_POLICY = "same-origin"


def from_this_site(request: Request) -> bool:
    """Browsers say where a request comes from in Sec-Fetch-Site (all current ones) or Origin.
    A client sending neither is no browser: nobody's cookies or page are being abused."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")  # none: typed in, a bookmark
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"
