"""Reading wrk's and pgbench's figures, through stand-in programs that print what the real ones do."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from load.loadgen import WRK_SCRIPTS, LoadError, pgbench, wrk

WRK_FIGURES = {
    "requests": 2867,
    "duration_us": 10_030_000,
    "bytes": 9_000_000,
    "errors": {"connect": 0, "read": 1, "write": 0, "status": 2, "timeout": 0},
    "latency_us": {"mean": 208370.4, "max": 725820, "p50": 189500, "p90": 279520, "p99": 498490, "p999": 651520},
}
# wrk's own summary, then the line bench/wrk/rotate.lua's done() prints.
WRK_OUTPUT = f"""Running 10s test @ http://127.0.0.1:8000
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   208.37ms  110.12ms 725.82ms   70.00%
    Req/Sec   143.50     40.10   250.00     68.00%
  2867 requests in 10.03s, 8.58MB read
  Non-2xx or 3xx responses: 2
Requests/sec:    285.84
Transfer/sec:    876.12KB
WRK_JSON {json.dumps(WRK_FIGURES)}
"""
# Real pgbench 18 output of a run of two scripts: each script has figures of its own, indented.
PGBENCH_OUTPUT = """pgbench (18.6)
transaction type: multiple scripts
scaling factor: 1
query mode: prepared
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 31156
number of failed transactions: 0 (0.000%)
latency average = 0.064 ms
initial connection time = 3.841 ms
tps = 31197.149040 (without initial connection time)
SQL script 1: /tmp/pgbench/000.sql
 - weight: 1 (targets 50.0% of total)
 - 15673 transactions (50.3% of total)
 - number of transactions actually processed: 15673 (tps = 15693.699990)
 - number of failed transactions: 0 (0.000%)
 - latency average = 0.066 ms
 - latency stddev = 0.235 ms
SQL script 2: /tmp/pgbench/001.sql
 - weight: 1 (targets 50.0% of total)
 - 15479 transactions (49.7% of total)
 - number of transactions actually processed: 15479 (tps = 15499.443766)
 - number of failed transactions: 0 (0.000%)
 - latency average = 0.029 ms
 - latency stddev = 0.202 ms
"""
PGBENCH_ABORTED = """pgbench (18.6)
transaction type: /tmp/pgbench/000.sql
scaling factor: 1
query mode: prepared
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 0
"""
PGBENCH_ABORTED_ERRORS = """pgbench: error: client 0 script 0 aborted in command 1 query 0: ERROR:  division by zero
pgbench: error: Run was aborted; the above results are incomplete.
"""


def fake(tmp_path: Path, *, stdout: str, stderr: str = "", status: int = 0) -> tuple[str, Path]:
    """A program that prints `stdout` and `stderr`, exits with `status`, and notes its arguments."""
    (tmp_path / "stdout").write_text(stdout)
    (tmp_path / "stderr").write_text(stderr)
    arguments = tmp_path / "arguments"
    program = tmp_path / "program"
    program.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {shlex.quote(str(arguments))}\n'
        f"cat {shlex.quote(str(tmp_path / 'stdout'))}\n"
        f"cat {shlex.quote(str(tmp_path / 'stderr'))} >&2\n"
        f"exit {status}\n"
    )
    program.chmod(0o755)
    return str(program), arguments


def test_wrk_figures_are_read_from_the_scripts_line(tmp_path: Path) -> None:
    binary, _ = fake(tmp_path, stdout=WRK_OUTPUT)

    run = wrk(binary, "http://127.0.0.1:8000", tmp_path / "feed.tsv", connections=64, seconds=10)

    assert run.connections == 64
    assert run.seconds == 10.03
    assert run.requests == 2867
    assert run.rps == 285.8  # requests over wrk's measured duration, not the asked 10 s
    assert run.errors == {"connect": 0, "read": 1, "write": 0, "status": 2, "timeout": 0}
    assert run.error_count == 3
    assert run.latency_ms == {"mean": 208.37, "max": 725.82, "p50": 189.5, "p90": 279.52, "p99": 498.49, "p999": 651.52}
    assert run.think_ms == 0.0


def test_wrk_saturates_with_rotate_and_paces_with_paced(tmp_path: Path) -> None:
    binary, arguments = fake(tmp_path, stdout=WRK_OUTPUT)
    data = tmp_path / "feed.tsv"

    wrk(binary, "http://127.0.0.1:8000", data, connections=64, seconds=10)
    saturating = arguments.read_text().splitlines()
    run = wrk(binary, "http://127.0.0.1:8000", data, connections=1, seconds=5, think_ms=12.34567)
    paced = arguments.read_text().splitlines()

    assert saturating == [
        "-t2",
        "-c64",
        "-d10s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPTS / "rotate.lua"),
        "http://127.0.0.1:8000",
        "--",
        str(data),
        "0.000",
    ]
    # No more threads than connections; the think time reaches the script as its second argument.
    assert paced[:3] == ["-t1", "-c1", "-d5s"]
    assert paced[6] == str(WRK_SCRIPTS / "paced.lua")
    assert paced[-2:] == [str(data), "12.346"]
    assert run.think_ms == 12.35
    assert (WRK_SCRIPTS / "rotate.lua").is_file()
    assert (WRK_SCRIPTS / "paced.lua").is_file()


def test_wrk_of_no_duration_has_no_rate(tmp_path: Path) -> None:
    figures = {**WRK_FIGURES, "requests": 0, "duration_us": 0}
    binary, _ = fake(tmp_path, stdout=f"WRK_JSON {json.dumps(figures)}\n")

    assert wrk(binary, "http://127.0.0.1:8000", tmp_path / "feed.tsv", connections=8, seconds=1).rps == 0.0


@pytest.mark.parametrize(
    ("stdout", "stderr", "status"),
    [
        ("", "unable to connect to 127.0.0.1:8000 Connection refused\n", 1),
        (WRK_OUTPUT, "PANIC: unprotected error in call to Lua API\n", 1),
        ("Running 10s test @ http://127.0.0.1:8000\n", "", 0),
    ],
    ids=["refused", "failed after the figures", "no figures"],
)
def test_wrk_failing_is_a_load_error_with_its_output(tmp_path: Path, stdout: str, stderr: str, status: int) -> None:
    binary, _ = fake(tmp_path, stdout=stdout, stderr=stderr, status=status)

    with pytest.raises(LoadError, match=rf"wrk failed \({status}\)") as raised:
        wrk(binary, "http://127.0.0.1:8000", tmp_path / "feed.tsv", connections=8, seconds=1)
    assert (stderr or stdout).strip() in str(raised.value)


def test_pgbench_figures_are_the_runs_not_a_scripts(tmp_path: Path) -> None:
    binary, arguments = fake(tmp_path, stdout=PGBENCH_OUTPUT)
    scripts = [tmp_path / "000.sql", tmp_path / "001.sql"]

    run = pgbench(binary, "postgresql://bench@/townsquare", scripts, clients=20, seconds=20)

    assert run.tps == 31197.1
    assert run.latency_ms == 0.064
    assert run.transactions == 31156
    assert run.failed == 0
    assert (run.clients, run.seconds, run.scripts) == (20, 20, 2)
    assert arguments.read_text().splitlines() == [
        "--no-vacuum",
        "--protocol=prepared",
        "--client=20",
        "--jobs=2",
        "--time=20",
        f"--file={scripts[0]}@1",
        f"--file={scripts[1]}@1",
        "postgresql://bench@/townsquare",
    ]


def test_pgbench_failed_transactions_are_counted(tmp_path: Path) -> None:
    output = PGBENCH_OUTPUT.replace(
        "number of failed transactions: 0 (0.000%)\nlatency", "number of failed transactions: 12 (0.039%)\nlatency"
    )
    binary, _ = fake(tmp_path, stdout=output)

    assert pgbench(binary, "postgresql:///townsquare", [tmp_path / "000.sql"], clients=1, seconds=1).failed == 12


def test_pgbench_aborting_is_a_load_error_with_the_reason(tmp_path: Path) -> None:
    binary, _ = fake(tmp_path, stdout=PGBENCH_ABORTED, stderr=PGBENCH_ABORTED_ERRORS, status=2)

    with pytest.raises(LoadError, match=r"pgbench failed \(2\)") as raised:
        pgbench(binary, "postgresql:///townsquare", [tmp_path / "000.sql"], clients=2, seconds=1)
    assert "division by zero" in str(raised.value)


def test_pgbench_aborting_after_its_figures_is_a_load_error(tmp_path: Path) -> None:
    # A client that fails late still leaves pgbench printing a rate, of an incomplete run.
    binary, _ = fake(tmp_path, stdout=PGBENCH_OUTPUT, stderr=PGBENCH_ABORTED_ERRORS, status=2)

    with pytest.raises(LoadError, match=r"pgbench failed \(2\)"):
        pgbench(binary, "postgresql:///townsquare", [tmp_path / "000.sql"], clients=2, seconds=1)


def test_pgbench_without_a_rate_is_a_load_error(tmp_path: Path) -> None:
    binary, _ = fake(tmp_path, stdout=PGBENCH_ABORTED)

    with pytest.raises(LoadError, match=r"pgbench failed \(0\)"):
        pgbench(binary, "postgresql:///townsquare", [tmp_path / "000.sql"], clients=2, seconds=1)
