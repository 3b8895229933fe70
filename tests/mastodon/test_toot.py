"""`toot`, Mastodon's command-line client, logs in, posts, reads and answers, as its users do.

Run as a subprocess with its own config directory, against the suite's app over HTTP; the
subprocess is awaited without blocking the event loop that serves it.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from fastapi import FastAPI
from httpx import AsyncClient

from tests.fixtures.accounts import Account, make_account
from tests.fixtures.notifications import drain

TOOT = Path(sys.executable).with_name("toot")


async def _toot(config: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(TOOT),
        "--no-color",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "XDG_CONFIG_HOME": str(config)},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "Error" not in text, text
    return text


async def _login(config: Path, live_url: str, account: Account) -> None:
    said = await _toot(config, "login_cli", "-i", live_url, "-e", account.email, "-p", account.password)
    assert "Successfully logged in" in said


async def test_toot_logs_in_posts_reads_and_replies(
    client: AsyncClient, app: FastAPI, live_url: str, tmp_path: Path
) -> None:
    alice, bob = await make_account(client, "tootalice"), await make_account(client, "tootbobby")
    alice_config, bob_config = tmp_path / "alice", tmp_path / "bob"
    await _login(alice_config, live_url, alice)
    await _login(bob_config, live_url, bob)

    assert "@tootalice" in await _toot(alice_config, "whoami")
    posted = await _toot(alice_config, "post", "hello from toot")
    match = re.search(r"Toot posted: (\S+)/(\d+)", posted)
    assert match is not None, posted
    status_id = match.group(2)

    assert "You are now following tootalice" in await _toot(bob_config, "follow", "tootalice")
    home = await _toot(bob_config, "timelines", "home")
    assert "hello from toot" in home
    assert status_id in home
    await _toot(bob_config, "favourite", status_id)
    await _toot(bob_config, "post", "--reply-to", status_id, "answered from toot")
    thread = await _toot(bob_config, "thread", status_id)
    assert "hello from toot" in thread
    assert "answered from toot" in thread
    assert "* @tootalice" in await _toot(bob_config, "following", "tootbobby")
    assert "@tootbobby" in await _toot(alice_config, "search", "tootbobby")

    await drain(app)
    notifications = await _toot(alice_config, "notifications")
    assert "tootbobby favourited your status" in notifications
    assert "tootbobby now follows you" in notifications
    assert "tootbobby mentioned you" in notifications

    await _toot(alice_config, "delete", status_id)
    assert (await client.get(f"/posts/{status_id}")).status_code == 404
