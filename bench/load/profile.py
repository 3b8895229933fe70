"""py-spy on the API's processes while wrk saturates them: where the Python time goes."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

PROCESS = re.compile(r'^(?:process \d+:"[^"]*";?)+')
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
AREAS = (
    ("townsquare", "townsquare (app code)"),
    ("sqlalchemy", "SQLAlchemy"),
    ("psycopg", "psycopg"),
    ("pydantic", "pydantic"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("uvicorn", "uvicorn"),
    ("granian", "granian"),
    ("structlog", "logging"),
    ("logging", "logging"),
    ("prometheus_client", "prometheus_client"),
    ("jwt", "PyJWT"),
    ("asgi_correlation_id", "asgi-correlation-id"),
    ("asyncio", "asyncio"),
    ("uvloop", "uvloop"),
    ("json", "json"),
)


def record(py_spy: str, pid: int, seconds: int, output: Path) -> str:
    """Samples of `pid` and its children (the server's workers), as collapsed stacks."""
    argv = [py_spy, "record", "--subprocesses", "--nonblocking", "--format", "raw", "--rate", "250"]
    argv += ["--duration", str(seconds), "--output", str(output), "--pid", str(pid)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    if result.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed: {result.stderr[-500:]}")
    return " ".join(argv)


def summarize(collapsed: Path, top: int = 15) -> dict[str, Any]:
    """Self time by library, the top functions by self time, and the app's functions by total
    time (with what they call), as shares of all samples."""
    by_area: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for raw in collapsed.read_text().splitlines():
        stack, _, count_text = raw.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # With --subprocesses a stack starts with `process <pid>:"<command line>"`, which may hold ';'.
        frames = [frame for frame in PROCESS.sub("", stack).split(";") if frame]
        if not frames:
            continue
        samples += count
        names = [_name(frame) for frame in frames]
        own[names[-1]] += count
        by_area[_area(frames[-1])] += count
        # Inclusive time of the app's own functions: which part of a request costs what.
        for name in {_name(frame) for frame in frames if "/townsquare/" in frame or "(townsquare/" in frame}:
            total[name] += count

    def shares(counter: Counter[str], limit: int) -> list[tuple[str, float]]:
        return [(name, round(100 * count / samples, 1)) for name, count in counter.most_common(limit)]

    return {
        "samples": samples,
        "self_by_library": shares(by_area, 20),
        "top_self": shares(own, top),
        "top_total": shares(total, top),
    }


def _name(frame: str) -> str:
    found = FRAME.match(frame)
    if found is None:
        return frame
    path = found.group("file")
    short = "/".join(path.split("/")[-2:])
    return f"{found.group('function')} ({short})"


def _area(frame: str) -> str:
    found = FRAME.match(frame)
    path = found.group("file") if found else frame
    for needle, area in AREAS:
        if f"/{needle}/" in path or f"/{needle}." in path or path.startswith(f"{needle}/"):
            return area
    return "other (stdlib, C code)"
