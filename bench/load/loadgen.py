"""Running wrk and pgbench, and reading their figures.

Saturation is wrk's closed loop with many connections: the throughput is honest there, the
latency is not (every connection waits for the slowest answers). Latency is measured at about
70% of that throughput instead, with bench/wrk/paced.lua: each connection thinks for an
exponentially distributed time between answer and next request. The mean think time is set
from the target rate and calibrated once on a short run (the rate then is connections / (think
+ latency)); the rate reached is reported next to the target, never assumed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from townsquare.config import DatabaseSettings

WRK_SCRIPTS = Path(__file__).resolve().parent.parent / "wrk"
THREADS = 2


@dataclass(frozen=True)
class Durations:
    warmup: int
    probe: int
    calibrate: int
    measure: int


@dataclass
class WrkRun:
    connections: int
    think_ms: float
    seconds: float
    requests: int
    rps: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class Measurement:
    scenario: str
    saturation: WrkRun
    paced: WrkRun | None
    target_rps: float
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LoadError(RuntimeError):
    pass


def wrk(
    binary: str,
    base_url: str,
    data: Path,
    *,
    connections: int,
    seconds: int,
    think_ms: float = 0.0,
) -> WrkRun:
    script = WRK_SCRIPTS / ("paced.lua" if think_ms > 0 else "rotate.lua")
    argv = [
        binary,
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
        "--",
        str(data),
        f"{think_ms:.3f}",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    found = re.search(r"^WRK_JSON (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or found is None:
        raise LoadError(f"wrk failed ({result.returncode}): {result.stdout[-500:]}{result.stderr[-500:]}")
    raw = json.loads(found.group(1))
    duration = raw["duration_us"] / 1e6
    return WrkRun(
        connections=connections,
        think_ms=round(think_ms, 2),
        seconds=round(duration, 2),
        requests=raw["requests"],
        rps=round(raw["requests"] / duration, 1) if duration else 0.0,
        errors=raw["errors"],
        latency_ms={name: round(value / 1000, 2) for name, value in raw["latency_us"].items()},
    )


@dataclass
class PgbenchRun:
    clients: int
    seconds: int
    scripts: int
    tps: float
    latency_ms: float
    transactions: int
    failed: int
    cpu: dict[str, float] = field(default_factory=dict)


def pgbench(binary: str, url: str, scripts: list[Path], *, clients: int, seconds: int) -> PgbenchRun:
    argv = [
        binary,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        f"--jobs={min(THREADS, clients)}",
        f"--time={seconds}",
        *[f"--file={script}@1" for script in scripts],
        url,
    ]
    # The statements run as the API's connections run them (townsquare.config.DatabaseSettings).
    env = {**os.environ, "PGOPTIONS": f"-c plan_cache_mode={DatabaseSettings().plan_cache_mode}"}
    result = subprocess.run(  # noqa: S603
        argv, capture_output=True, text=True, timeout=seconds + 120, check=False, env=env
    )
    output = result.stdout + result.stderr
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    if result.returncode != 0 or tps is None:
        raise LoadError(f"pgbench failed ({result.returncode}): {output[-1500:]}")
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.MULTILINE)
    processed = re.search(r"^number of transactions actually processed: (\d+)", output, re.MULTILINE)
    failed = re.search(r"^number of failed transactions: (\d+)", output, re.MULTILINE)
    return PgbenchRun(
        clients=clients,
        seconds=seconds,
        scripts=len(scripts),
        tps=round(float(tps.group(1)), 1),
        latency_ms=float(latency.group(1)) if latency else 0.0,
        transactions=int(processed.group(1)) if processed else 0,
        failed=int(failed.group(1)) if failed else 0,
    )
