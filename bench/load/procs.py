"""Processes from /proc (psutil is not a dependency): trees, memory and CPU time."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Stat:
    pid: int
    parent: int
    name: str
    cpu_seconds: float


def stat(pid: int) -> Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name is in parentheses and may hold spaces: split after the last ')'.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return Stat(pid, int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICKS)


def all_stats() -> dict[int, Stat]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := stat(int(entry))) is not None:
            stats[found.pid] = found
    return stats


def descendants(root: int, stats: dict[int, Stat] | None = None) -> list[int]:
    stats = stats if stats is not None else all_stats()
    children: dict[int, list[int]] = {}
    for entry in stats.values():
        children.setdefault(entry.parent, []).append(entry.pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / TICKS, total / TICKS


class CpuMeter:
    """Where the machine's CPU went while it ran: the API, PostgreSQL, the load generator,
    everything else (other users of the machine), idle; in percent of all cores.

    Processes are sampled every half second, so that the time of those that end before the
    meter stops (wrk, pgbench and their database backends) is counted too."""

    INTERVAL = 0.5

    def __init__(self, api_root: int | None, database: str) -> None:
        self.api_root = api_root
        self.database = database
        self.first = all_stats()
        self.last: dict[int, Stat] = {}
        self.kinds: dict[int, str] = {}
        self.machine_before = machine_cpu()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.INTERVAL):
            self._sample()

    def _sample(self) -> None:
        stats = all_stats()
        api = {self.api_root, *descendants(self.api_root, stats)} if self.api_root else set[int]()
        for pid, entry in stats.items():
            self.last[pid] = entry
            if self.kinds.get(pid, "other") == "other":  # a new backend names its database a moment later
                self.kinds[pid] = self._kind(pid, entry, api)

    def stop(self) -> dict[str, float]:
        self._stopped.set()
        self._thread.join()
        self._sample()
        busy_after, total_after = machine_cpu()
        busy = busy_after - self.machine_before[0]
        total = total_after - self.machine_before[1]
        shares = {"api": 0.0, "postgres": 0.0, "load generator": 0.0}
        for pid, entry in self.last.items():
            previous = self.first.get(pid)
            # A process that started meanwhile spent all its time in the window.
            spent = entry.cpu_seconds - (previous.cpu_seconds if previous and previous.name == entry.name else 0.0)
            kind = self.kinds.get(pid, "other")
            if kind in shares:
                shares[kind] += spent
        accounted = sum(shares.values())
        shares["other"] = max(busy - accounted, 0.0)
        shares["idle"] = max(total - busy, 0.0)
        return {name: round(100 * seconds / total, 1) if total else 0.0 for name, seconds in shares.items()}

    def _kind(self, pid: int, entry: Stat, api: set[int]) -> str:
        if pid in api:
            return "api"
        if entry.name in ("wrk", "pgbench"):
            return "load generator"
        if entry.name in ("postgres", "postmaster"):
            # The server's own processes, and the backends of the benchmark's database; not the
            # backends other users of a shared server have open meanwhile.
            line = command_line(pid)
            backend = re.search(r"\d\)|\[local\]", line) is not None
            return "postgres" if not backend or f" {self.database} " in line else "other"
        return "other"
