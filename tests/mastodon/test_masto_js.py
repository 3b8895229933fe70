"""masto.js (the library behind Phanpy and Elk) against the server: REST, paging, its error type,
and a live notification over the WebSocket stream.

Runs tests/mastodon/js/check.mjs with the machine's Node.js; the script's packages come from its
committed lock file (`npm ci`, once). Skipped, saying why, where Node.js is not installed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from tests.fixtures.accounts import make_account
from tests.fixtures.mastodon import token_for

SCRIPT_DIR = Path(__file__).parent / "js"
NODE, NPM = shutil.which("node"), shutil.which("npm")


async def _installed() -> None:
    if (SCRIPT_DIR / "node_modules" / "masto").is_dir():
        return
    assert NPM is not None, "npm is needed to install masto.js"
    process = await asyncio.create_subprocess_exec(
        NPM,
        "ci",
        "--no-audit",
        "--no-fund",
        cwd=SCRIPT_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, output.decode()


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed: the masto.js check needs `node` (CI has it)")
async def test_masto_js_rest_paging_errors_and_websocket_stream(client: AsyncClient, live_url: str) -> None:
    assert NODE is not None
    await _installed()
    alice, bob = await make_account(client), await make_account(client)
    token = await token_for(client, alice)
    process = await asyncio.create_subprocess_exec(
        NODE,
        "check.mjs",
        live_url,
        token.access_token,
        cwd=SCRIPT_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    steps: dict[str, Any] = {}
    try:
        async with asyncio.timeout(60):
            while (line := (await process.stdout.readline()).decode().strip()) != "READY":
                assert line, (await process.stderr.read()).decode() if process.stderr else "node stopped"
                step = json.loads(line)
                steps[step["step"]] = step["value"]
            # masto.js is subscribed: a follow by bob must reach it live
            followed = await client.post(f"/users/{alice.id}/follow", headers=bob.headers)
            assert followed.status_code == 200
            event = json.loads((await process.stdout.readline()).decode())
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert steps["instance"]["version"].startswith("4.2.0")
    assert steps["instance"]["streaming"] == live_url.replace("http://", "ws://")
    assert steps["me"] == alice.username
    # as on Mastodon, the last page still links on; the page after it is empty, and there it stops
    assert steps["pages"] == [["<p>three</p>", "<p>two</p>"], ["<p>one</p>"], []]
    assert steps["error"]["http"] is True
    assert steps["error"]["status"] == 404
    assert event["value"] == {"event": "notification", "type": "follow", "actor": bob.username}
