"""The exact SQL of an API request, captured from the app itself, as pgbench scripts.

The app is created in this process against the benchmark database and asked each request
through its ASGI interface; every statement it sends (with its parameters) is recorded at the
SQLAlchemy engine and at the hot reads (townsquare.db.hot, always in autocommit mode), with
whether it ran in autocommit mode. A request becomes one pgbench script:
the statements in order with their parameters as pgbench variables (bound, so `-M prepared`
prepares them as psycopg does), between BEGIN and COMMIT when the app's session ran them in a
transaction (psycopg sends those by itself, unseen by the engine), bare when it ran them in
autocommit mode (GET requests): the round trips the API makes. Nothing is copied by hand, so the
scripts cannot drift from the code.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import event

from townsquare.app import create_app
from townsquare.config import (
    AuthSettings,
    Environment,
    LogSettings,
    MetricsSettings,
    Settings,
    WorkerSettings,
)

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Captured:
    statement: str
    parameters: dict[str, Any]
    autocommit: bool = False  # sent outside a transaction, which psycopg would otherwise begin


class CaptureError(RuntimeError):
    pass


def capture(url: str, secret: str, requests: dict[str, list[tuple[str, str]]]) -> dict[str, list[list[Captured]]]:
    """For each named set of (path, token) GET requests, the statements each request ran."""
    return asyncio.run(capture_async(url, secret, requests))


async def capture_async(
    url: str, secret: str, requests: dict[str, list[tuple[str, str]]]
) -> dict[str, list[list[Captured]]]:
    settings = Settings(
        database_url=url,
        environment=Environment.TEST,
        auth=AuthSettings(jwt_secret=SecretStr(secret)),
        worker=WorkerSettings(in_process=False),
        rate_limit_enabled=False,
        log=LogSettings(level="WARNING"),
        metrics=MetricsSettings(enabled=False),
    )
    app = create_app(settings)
    seen: list[Captured] = []
    results: dict[str, list[list[Captured]]] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.database.engine.sync_engine

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if not isinstance(parameters, dict):
                raise CaptureError(f"expected named parameters, got {type(parameters).__name__}")
            autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            seen.append(Captured(statement, dict(parameters), autocommit))

        def record_hot(statement: str, parameters: Mapping[str, Any]) -> None:
            seen.append(Captured(statement, dict(parameters), autocommit=True))  # townsquare.db.hot

        event.listen(engine, "before_cursor_execute", record)
        app.state.database.hot.listeners.append(record_hot)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, pairs in requests.items():
                # The first request of a connection may carry the driver's set-up queries.
                await client.get(pairs[0][0], headers={"Authorization": f"Bearer {pairs[0][1]}"})
                results[name] = []
                for path, token in pairs:
                    seen.clear()
                    answer = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                    if answer.status_code != 200:
                        raise CaptureError(f"{name}: GET {path} answered {answer.status_code}: {answer.text[:200]}")
                    results[name].append(list(seen))
                shapes = {tuple(captured.statement for captured in request) for request in results[name]}
                if len(shapes) != 1:
                    raise CaptureError(f"{name}: the requests ran different statements; pgbench needs one shape")
        event.remove(engine, "before_cursor_execute", record)
        app.state.database.hot.listeners.remove(record_hot)
    return results


def pgbench_script(request: list[Captured]) -> str:
    """One request as a pgbench script; its parameters become `\\set` variables."""
    in_transaction = not all(captured.autocommit for captured in request)
    lines = ["BEGIN;"] if in_transaction else []
    for index, captured in enumerate(request):
        for name, value in captured.parameters.items():
            lines.append(f"\\set s{index}_{name} {_pgbench_value(value)}")
        statement = PLACEHOLDER.sub(rf":s{index}_\1", captured.statement)
        lines.append(statement.replace("%%", "%").strip().rstrip(";") + ";")
    if in_transaction:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def _pgbench_value(value: Any) -> str:
    # pgbench variables are numbers or booleans; the feed and post pages only bind ids and sizes.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise CaptureError(f"cannot pass a {type(value).__name__} parameter to pgbench")
