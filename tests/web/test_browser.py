"""The web client in a real browser (Debian's Chromium, driven by Playwright): sign up, post,
text that looks like markup shown as text, the live character count, an accessibility audit
(axe-core: no serious or critical violations), and screenshots at phone and desktop widths.

Skipped, saying why, where Chromium is not installed (`apt-get install chromium`; CI installs
it). Screenshots go to SCREENSHOTS (`.artifacts/screenshots/`, or $SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ".artifacts/screenshots"))
WIDTHS = {"phone": (360, 740), "desktop": (1280, 800)}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: `apt-get install -y chromium` runs the browser tests"
)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        # Debian's Chromium by its path: no browser download.
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def _audit(page: Page) -> None:
    results = await Axe().run(page)
    serious = [
        (violation["id"], violation["help"])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


async def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, tiny
    for width_name, (width, height) in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=SCREENSHOTS / f"{name}-{width_name}.png", full_page=True)


async def test_sign_up_post_and_read_it_back_in_the_browser(browser: Browser, live_url: str) -> None:
    context = await browser.new_context(base_url=live_url)
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.goto("/")
    await _audit(page)
    await _shoot(page, "signin")
    await page.click("text=Create an account")
    await page.fill("#email", "browser@example.com")
    await page.fill("#username", "browser_user")
    await page.fill("#password", "a long password")
    await _audit(page)
    await _shoot(page, "signup")
    await page.click("form.card button[type=submit]")
    await page.wait_for_url(f"{live_url}/")

    composer = page.locator("#content")
    await composer.fill("hello <script>alert('x')</script> <img src=x onerror=alert(1)>")
    counter = page.locator("#content-count")
    assert await counter.text_content() == f"{500 - 62} characters left"
    await page.click("form.compose button[type=submit]")
    await page.wait_for_selector("article.post")
    shown = await page.locator("article.post .content").first.text_content()
    assert shown == "hello <script>alert('x')</script> <img src=x onerror=alert(1)>"
    assert await page.locator("article.post img").count() == 0  # text, not an element
    await _audit(page)
    await _shoot(page, "home")
    await page.click("article.post footer a")  # its comments: the post page
    await page.fill("#comment", "first!")
    await page.click("form.card button[type=submit]")
    await page.wait_for_selector("article.comment")
    await _audit(page)
    await _shoot(page, "post")
    await page.goto("/@browser_user")
    await _audit(page)
    await _shoot(page, "profile")
    await page.click("text=Settings")
    await _audit(page)
    await _shoot(page, "settings")
    assert dialogs == []  # no script of the post ran
    assert errors == []
    await context.close()


async def test_the_mastodon_authorization_page_works_in_a_browser(browser: Browser, live_url: str) -> None:
    """Regression: under the API's `Referrer-Policy: no-referrer` a browser posts the form with
    `Origin: null`, which the cross-site check refused; no non-browser test could see it."""
    context = await browser.new_context(base_url=live_url)
    page = await context.new_page()
    signup = await page.request.post(
        "/auth/register", data={"email": "oauth@example.com", "username": "oauth_user", "password": "a long password"}
    )
    assert signup.status == 201
    app = await (await page.request.post("/api/v1/apps", form={"client_name": "Browser app", "scopes": "read"})).json()
    await page.goto(
        f"/oauth/authorize?response_type=code&client_id={app['client_id']}"
        "&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
    )
    await _audit(page)
    await page.fill("#login", "oauth_user")
    await page.fill("#password", "a long password")
    await _shoot(page, "authorize")
    await page.click("text=Approve")
    code = await page.locator("#code").text_content()
    assert code
    assert len(code) > 20
    await context.close()
