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
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright, expect

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


async def _signed_in_page(browser: Browser, live_url: str, username: str) -> tuple[BrowserContext, Page]:
    """A new browser (context) with an account made through the API, signed in with the form."""
    context = await browser.new_context(base_url=live_url)
    page = await context.new_page()
    page.on("pageerror", lambda error: pytest.fail(f"script error: {error}"))
    made = await page.request.post(
        "/auth/register",
        data={"email": f"{username}@example.com", "username": username, "password": "a long password"},
    )
    assert made.status == 201
    await page.goto("/signin")
    await page.fill("#login", username)
    await page.fill("#password", "a long password")
    await page.click("form.card button[type=submit]")
    await page.wait_for_url(f"{live_url}/")
    return context, page


async def test_follow_like_and_a_live_notification_between_two_browsers(browser: Browser, live_url: str) -> None:
    """Ann posts; Bob finds her through search (with a typo), follows her, sees her post in his
    feed, likes it (the count changes in place, no reload); Ann's badge counts it live, without
    a reload, and her notifications page marks it read."""
    ann_context, ann = await _signed_in_page(browser, live_url, "ann_author")
    bob_context, bob = await _signed_in_page(browser, live_url, "bob_reader")
    await ann.fill("#content", "hello from ann")
    await ann.click("form.compose button[type=submit]")
    await ann.wait_for_selector("article.post")
    badge = ann.locator("#unread")
    assert await badge.is_hidden()
    await ann.evaluate("window.notReloaded = true")

    await bob.fill("#q", "ann_autor")  # a typo
    await bob.press("#q", "Enter")
    await bob.click("section[aria-label=People] a[href='/@ann_author']")
    await bob.get_by_role("button", name="Follow", exact=True).click()
    await bob.get_by_role("button", name="Unfollow", exact=True).wait_for()
    assert "1</strong> follower" in await bob.locator(".counts").inner_html()
    await bob.goto("/")
    card = bob.locator("article.post", has_text="hello from ann")
    await bob.evaluate("window.notReloaded = true")
    await card.locator("button.like").click()
    await bob.wait_for_selector("article.post .likes:text('1 like')")
    assert await bob.evaluate("window.notReloaded") is True  # changed in place
    assert await bob.locator("article.post button.like").text_content() == "Unlike"
    assert await bob.evaluate("document.activeElement.textContent") == "Unlike"  # focus stays on it
    await _audit(bob)

    await expect(badge.locator(".n")).to_have_text("2", timeout=10_000)  # the follow and the like, live
    assert await ann.evaluate("window.notReloaded") is True
    await bob.goto("/@ann_author")
    await bob.get_by_role("button", name="Unfollow", exact=True).click()
    await bob.get_by_role("button", name="Follow", exact=True).wait_for()
    await ann.get_by_role("link", name="Notifications").click()
    assert "@bob_reader" in await ann.locator("#notification-list").inner_text()
    await _audit(ann)
    await _shoot(ann, "notifications")
    await ann.get_by_role("button", name="Mark all as read").click()
    await ann.wait_for_selector("#notification-list li:not(.unread)")
    assert await badge.is_hidden()
    await ann.goto("/@ann_author/followers")
    await _audit(ann)
    await ann_context.close()
    await bob_context.close()


async def test_edit_and_delete_a_post_in_the_browser(browser: Browser, live_url: str) -> None:
    context, page = await _signed_in_page(browser, live_url, "eve_editor")
    await page.fill("#content", "a typo herre")
    await page.click("form.compose button[type=submit]")
    await page.locator("article.post").get_by_role("link", name="Edit", exact=True).click()
    await page.fill("#content", "no typo here")
    await _audit(page)
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_selector("article.post .content:text('no typo here')")
    assert "edited" in await page.locator("article.post header").inner_text()
    await page.click("article.post summary:text('Delete')")
    await page.get_by_role("button", name="Delete this post").click()
    await page.wait_for_url(f"{live_url}/")
    assert await page.locator("article.post").count() == 0
    await context.close()


async def test_a_form_on_another_site_changes_nothing(browser: Browser, live_url: str) -> None:
    """Cross-site request forgery, as a browser makes it: a page elsewhere posts a form to
    Townsquare while the user is signed in. The cookie stays home (SameSite) and the Origin
    check refuses it: nothing is posted, the user stays signed in."""
    context, page = await _signed_in_page(browser, live_url, "cara_careful")
    evil = (
        f'<form method="post" action="{live_url}/compose"><input name="content" value="forged post">'
        '<input name="csrf" value="guess"><button id="go">Win a prize</button></form>'
    )

    async def serve(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body=evil)

    await context.route("http://evil.example/**", serve)
    await page.goto("http://evil.example/prize")
    await page.click("#go")
    await page.wait_for_load_state()
    assert "forged post" not in await page.content()
    await page.goto(f"{live_url}/")
    assert await page.locator("article.post").count() == 0
    assert await page.locator("#content").count() == 1  # still signed in
    await context.close()


async def test_mute_report_and_block_from_a_profile_in_the_browser(browser: Browser, live_url: str) -> None:
    """The safety tools as a person finds them: behind "Mute, block or report" on someone's
    profile, each with a sentence of what it does; the muted and blocked lists in settings."""
    loud_context, loud = await _signed_in_page(browser, live_url, "loud_lou")
    await loud.fill("#content", "LOUD POST")
    await loud.click("form.compose button[type=submit]")
    await loud.wait_for_selector("article.post")
    context, page = await _signed_in_page(browser, live_url, "quiet_quinn")
    await page.goto("/@loud_lou")
    await page.click("summary:text('Mute, block or report')")
    await page.fill("#reason", "shouts at everyone")
    await _audit(page)
    await _shoot(page, "profile-other")
    await page.get_by_role("button", name="Send report").click()
    await page.wait_for_selector("p.notice:text('the moderators will look at your report')")
    await page.click("summary:text('Mute, block or report')")
    await page.get_by_role("button", name="Mute @loud_lou").click()
    await page.get_by_role("button", name="Unmute", exact=True).wait_for()
    await page.click("summary:text('Mute, block or report')")
    await page.get_by_role("button", name="Block @loud_lou").click()
    await page.wait_for_url(f"{live_url}/settings#blocked")
    blocked = page.locator("#blocked")
    assert "@loud_lou" in await blocked.inner_text()
    await _audit(page)
    await _shoot(page, "settings-safety")
    await loud.goto("/@quiet_quinn")
    assert "No such account" in await loud.locator("main").inner_text()  # the blocked side sees nothing
    await context.close()
    await loud_context.close()
