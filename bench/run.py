"""`make bench`: load the API as production runs it, next to PostgreSQL's own limit, and report.

    .venv/bin/python bench/run.py --size small|large [--seed N]

One run, on one machine shared by the API, PostgreSQL and the load generators:

1. the preset is loaded once into a template database (reused later) and copied for this run;
2. login sessions and access tokens are minted for the users the run will be (no passwords);
3. the feed and post pages' exact SQL is captured from the app and run by pgbench (raw SQL);
4. the API is started as in production (`townsquare run --workers <cores>`: granian with uvloop,
   its workers forked with the app imported, production settings, rate limits off, a separate job worker) and every
   scenario is measured with wrk: throughput at saturation, latency at ~70% of it;
5. py-spy samples the API under the feed's load; memory is read after the run;
6. plain uvicorn (httptools) serves the same app and the feed is measured again, back to back;
7. the report goes to bench/results/<time>-<size>.md and .json, and its summary is printed.

DATABASE_URL names the PostgreSQL server to use (the benchmark makes its own databases there);
without it an embedded PostgreSQL of the benchmark's own is started in `.data/bench-postgres`.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from load import database, fixtures, loadgen, procs, report, statements, tools
from load.loadgen import Durations, Measurement, WrkRun
from load.server import ALTERNATIVE, PRODUCTION, ApiServer, environment

from townsquare.config import get_settings

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DURATIONS = {
    "tiny": Durations(warmup=1, probe=3, calibrate=2, measure=4),
    "small": Durations(warmup=2, probe=6, calibrate=4, measure=10),
    "large": Durations(warmup=4, probe=10, calibrate=5, measure=20),
}
LOAD_SHARE = 0.7
MAX_CYCLE_SECONDS = 2.0
SATURATING_CONNECTIONS = 64
READS = (
    "feed-typical",
    "mastodon-home",
    "web-home",
    "feed-heavy",
    "post",
    "user-posts",
    "search-posts",
    "search-users",
)
WRITES = ("create-post", "like")
RAW_SQL_PAGES = {"feed-typical": "feed, typical user", "feed-heavy": "feed, user following 2,000+", "post": "post page"}
METHOD = [
    "Saturation: wrk (closed loop) with {saturating} connections and 2 threads for {probe} s after a "
    "{warmup} s warm-up; every request rotates through a data file of tokens and ids (bench/wrk/rotate.lua). "
    "Its requests/s is the peak; its latency is not reported as the figure (a saturated closed loop queues).",
    "Latency at ~70%: wrk with bench/wrk/paced.lua and up to as many connections (a cycle of at most 2 s each: "
    "uvicorn, the comparison's server, closes connections idle for 5 s), each waiting an exponentially "
    "distributed think time between answer and next request, long beside the latency, so that the rate "
    "hardly depends on it; the mean think time is set from the target rate (70% of the peak) and corrected "
    "once after a {calibrate} s calibration run, then {measure} s are measured. The rate reached is reported "
    "beside the peak, never assumed. (wrk2, which paces by itself, is not packaged by Debian.)",
    "Raw SQL: the statements the API runs for a feed page and a post page (authentication lookup included, "
    "as its own statement or folded into the page's; each on its own outside a transaction, as the API runs "
    "reads, or between BEGIN and COMMIT where the API runs them in one) are captured "
    "from the app at run time (SQLAlchemy's before_cursor_execute and the hot reads' listeners, townsquare.db.hot; "
    "one request per user) and replayed by "
    "pgbench -M prepared with the same parameters, the same users and posts as the API's load, and as many "
    "client connections as the API's pools (workers x pool size).",
    "API: `townsquare run --workers N` (granian, uvloop), TOWNSQUARE_ENVIRONMENT=production, "
    "rate limits off, logs at WARNING, PROMETHEUS_MULTIPROC_DIR set, jobs in a separate `townsquare worker` "
    "(TOWNSQUARE_WORKER__IN_PROCESS=false, as deploy/README.md runs it).",
    "Tokens: login sessions inserted directly, access tokens signed with the server's secret "
    "(townsquare.auth.tokens.TokenIssuer): every request is authenticated as in production, by many users.",
    "CPU shares: /proc time of the API's processes, of PostgreSQL's (its server processes and the "
    "benchmark database's backends), of wrk/pgbench, of everything else, and idle, in % of all cores.",
]


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--size", choices=sorted(DURATIONS), default="small")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="API processes (default: cores)")
    arguments.add_argument("--results", type=Path, default=RESULTS, help="where the report goes")
    arguments.add_argument(
        "--no-granian", action="store_true", help="skip the server comparison (the feed under plain uvicorn)"
    )
    arguments.add_argument("--no-profile", action="store_true", help="skip py-spy")
    arguments.add_argument("--keep-database", action="store_true", help="keep the run's database copy")
    arguments.add_argument("--keep-work", action="store_true", help="keep logs, data files, scripts, raw profiles")
    arguments.add_argument(
        "--only",
        type=lambda value: set(value.split(",")),
        metavar="NAMES",
        help=f"only these scenarios, comma-separated: {', '.join((*READS, *WRITES, 'notifications'))}",
    )
    arguments.add_argument("--rewrite", type=Path, metavar="JSON", help="only write a report's Markdown again")
    args = arguments.parse_args()
    if args.rewrite is not None:
        results = json.loads(args.rewrite.read_text())
        args.rewrite.with_suffix(".md").write_text(report.markdown(results))
        print(report.summary_table(results))
        return
    # SIGTERM unwinds like Ctrl-C: servers stopped, the run's database dropped.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        results = run(args)
    except (tools.ToolMissing, loadgen.LoadError, statements.CaptureError, RuntimeError) as error:
        sys.exit(f"bench: {error}")
    print()
    print(report.summary_table(results))


def run(args: argparse.Namespace) -> dict[str, Any]:
    started, stamp = time.monotonic(), time.strftime("%Y%m%d-%H%M%S")
    durations = DURATIONS[args.size]
    phases: dict[str, float] = {}
    notes: list[str] = []
    settings = get_settings()
    # As an installed release starts (the Docker image's modules are compiled at build): the
    # project's own modules are installed editable, and PYTHONDONTWRITEBYTECODE may be set.
    compileall.compile_dir(REPO / "src", quiet=1)
    wrk_binary, pgbench_binary = tools.wrk(), tools.pgbench()
    dev_tools = tools.dev_tools(REPO)
    if dev_tools is None:
        notes.append("py-spy missing from .venv: no profile")
    results: dict[str, Any] = {
        "run": {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "stamp": stamp, "size": args.size, "seed": args.seed},
        "machine": report.machine(),
        "versions": report.versions(REPO),
        "method": [line.format(saturating=SATURATING_CONNECTIONS, **vars(durations)) for line in METHOD],
        "notes": notes,
    }
    results["versions"]["tools"] = {
        "wrk": _wrk_version(wrk_binary),
        "pgbench": tools.version([pgbench_binary, "--version"]),
    }
    if dev_tools is not None:
        results["versions"]["tools"]["py-spy"] = tools.version([str(dev_tools / "bin" / "py-spy"), "--version"])
    work = Path(tempfile.mkdtemp(prefix="townsquare-bench-"))
    succeeded = False
    with contextlib.ExitStack() as cleanup:
        server = cleanup.enter_context(database.server(settings.database_url, settings.data_dir))
        phase = time.monotonic()
        prepared = database.prepare(server, size=args.size, seed=args.seed)
        if not args.keep_database:
            cleanup.callback(database.drop, server, prepared.name)
        phases["database"] = time.monotonic() - phase
        results["database"] = {
            "embedded": server.embedded,
            "name": prepared.name,
            "template": prepared.template,
            "reused": prepared.reused,
            "load_seconds": prepared.load_seconds,
            "load_summary": prepared.load_summary,
            "copy_seconds": round(prepared.copy_seconds, 1),
            **prepared.facts,
        }
        print(f"database {prepared.name}: {json.dumps(prepared.facts['rows'])}", flush=True)
        if prepared.facts["server_settings"].get("autovacuum") == "off":
            notes.append(
                "the PostgreSQL server runs with autovacuum off: no table is analyzed or vacuumed during"
                " the run but by the app itself (the job table's upkeep)"
            )

        phase = time.monotonic()
        secret = secrets.token_urlsafe(48)
        minter = fixtures.Minter(prepared.url, secret)
        chosen = fixtures.choose(prepared.url, minter, args.seed)
        results["fixtures"] = chosen.facts
        data = {}
        for name, lines in fixtures.requests_of(chosen, args.seed).items():
            if args.only and name not in args.only:
                continue
            if lines:
                data[name] = fixtures.write(work, name, lines)
            else:
                notes.append(f"{name}: no such requests in this data set (skipped)")
        phases["fixtures"] = time.monotonic() - phase

        # -- PostgreSQL alone: the pages' own SQL ------------------------------------------------
        phase = time.monotonic()
        pool = settings.db.pool_size
        clients = args.workers * pool
        page_requests = {
            "feed-typical": [("/feed", viewer.token) for viewer in chosen.typical],
            "feed-heavy": [("/feed", viewer.token) for viewer in chosen.heavy],
            "post": [(f"/posts/{post_id}", viewer.token) for viewer, post_id in chosen.post_page],
        }
        captured = statements.capture(prepared.url, secret, {k: v for k, v in page_requests.items() if v and k in data})
        results["raw_sql"], results["pgbench_scripts"] = {}, {}
        for name, requests in captured.items():
            directory = work / "pgbench" / name
            directory.mkdir(parents=True)
            scripts = []
            for index, request in enumerate(requests):
                script = directory / f"{index:03}.sql"
                script.write_text(statements.pgbench_script(request))
                scripts.append(script)
            results["pgbench_scripts"][name] = scripts[0].read_text()
            print(f"pgbench {name}: {len(scripts)} scripts, {clients} clients", flush=True)
            loadgen.pgbench(pgbench_binary, prepared.url, scripts, clients=clients, seconds=max(durations.warmup, 2))
            meter = procs.CpuMeter(None, prepared.name)
            figures = loadgen.pgbench(pgbench_binary, prepared.url, scripts, clients=clients, seconds=durations.measure)
            figures.cpu = meter.stop()
            results["raw_sql"][name] = vars(figures)
            print(f"  {figures.tps:,.0f} tx/s, mean {figures.latency_ms} ms", flush=True)
        phases["raw sql"] = time.monotonic() - phase

        # -- the API as production runs it (`townsquare run`) -----------------------------------
        env = environment(prepared.url, secret)
        results["api"] = {
            "server": PRODUCTION,
            "workers": args.workers,
            "pool_size": pool,
            "max_overflow": settings.db.max_overflow,
            "scenarios": {},
        }
        scenarios: dict[str, Any] = results["api"]["scenarios"]
        servers: dict[str, Any] = {}
        memory: dict[str, Any] = {}
        profiles: dict[str, Any] = {}
        phase = time.monotonic()
        with ApiServer(PRODUCTION, workers=args.workers, env=env, work=work, dev_tools=dev_tools) as api:
            print(f"{PRODUCTION} ({args.workers} workers) on {api.base_url}; started in {api.startup}", flush=True)
            results["startup"] = api.startup
            for name in (name for name in READS if name in data):
                scenarios[name] = measure(name, data[name], api, wrk_binary, durations, prepared.name).as_dict()
            if dev_tools is not None and not args.no_profile:
                for name in (name for name in ("feed-typical", "search-posts") if name in data):
                    profiles[name] = profile(name, data[name], api, wrk_binary, dev_tools, work, durations)
            for name in (name for name in WRITES if name in data):
                scenarios[name] = measure(name, data[name], api, wrk_binary, durations, prepared.name).as_dict()
            left, waited = database.wait_for_jobs(prepared.url, timeout=300)
            results["jobs_drained_seconds"] = None if left else round(waited, 1)
            if left:
                notes.append(
                    f"{left} notification jobs were still waiting 300 s after the write scenarios: "
                    + database.job_states(prepared.url)
                )
            else:
                notes.append(f"every notification job had run {waited:.0f} s after the write scenarios ended")
            readers, reader_facts = fixtures.notification_readers(prepared.url, minter)
            results["fixtures"]["notifications"] = reader_facts
            if readers and (not args.only or "notifications" in args.only):
                data["notifications"] = fixtures.write(
                    work,
                    "notifications",
                    [fixtures.line("GET", f"/users/{v.user_id}/notifications", v) for v in readers],
                )
                scenarios["notifications"] = measure(
                    "notifications", data["notifications"], api, wrk_binary, durations, prepared.name
                ).as_dict()
            compare = not args.no_granian and "feed-typical" in data
            reference = _answer(api.base_url, data["feed-typical"]) if compare else None
            if compare:
                # Measured again here, just before the other server, on the same data.
                servers[PRODUCTION] = measure(
                    "feed-typical", data["feed-typical"], api, wrk_binary, durations, prepared.name
                ).as_dict()
            memory[PRODUCTION] = api.memory()
        phases[f"api ({PRODUCTION})"] = time.monotonic() - phase

        if compare:
            phase = time.monotonic()
            with ApiServer(ALTERNATIVE, workers=args.workers, env=env, work=work, dev_tools=dev_tools) as api:
                print(f"{ALTERNATIVE} ({args.workers} workers) on {api.base_url}", flush=True)
                if _answer(api.base_url, data["feed-typical"]) != reference:
                    notes.append(f"{ALTERNATIVE}'s answer to GET /feed differed from {PRODUCTION}'s")
                servers[ALTERNATIVE] = measure(
                    "feed-typical", data["feed-typical"], api, wrk_binary, durations, prepared.name
                ).as_dict()
                memory[ALTERNATIVE] = api.memory()
            phases[f"api ({ALTERNATIVE})"] = time.monotonic() - phase
            faster = max(servers, key=lambda server: servers[server]["saturation"]["rps"])
            notes.append(f"{faster} served the feed faster at saturation in this run")
        results["servers"], results["memory"], results["profile"] = servers, memory, profiles
        results["ratios"] = {
            name: {
                "label": label,
                "api_rps": scenarios[name]["saturation"]["rps"],
                "sql_tps": results["raw_sql"][name]["tps"],
                "ratio": round(scenarios[name]["saturation"]["rps"] / results["raw_sql"][name]["tps"], 3),
            }
            for name, label in RAW_SQL_PAGES.items()
            if name in scenarios and results["raw_sql"].get(name, {}).get("tps")
        }
        for name, measured in {**scenarios, **{f"{k} feed": v for k, v in servers.items()}}.items():
            if measured.get("note"):
                notes.append(f"{name}: {measured['note']}")
        load = os.getloadavg()[0]
        notes.append(f"load average at the end: {load:.2f} (other work on the machine shows as 'other' CPU)")
        results["targets"] = report.targets(results)
        results["run"]["seconds"] = round(time.monotonic() - started)
        results["run"]["phases"] = {name: round(seconds) for name, seconds in phases.items()}
        succeeded = True
    if succeeded and not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"bench: logs, data files and raw profiles are in {work}", file=sys.stderr)
    json_path, markdown_path = report.write(results, args.results)
    print(f"report: {markdown_path.relative_to(REPO) if markdown_path.is_relative_to(REPO) else markdown_path}")
    print(f"        {json_path.name}")
    return results


def measure(
    name: str, data: Path, api: ApiServer, wrk_binary: str, durations: Durations, database_name: str
) -> Measurement:
    """Peak throughput, then latency at ~70% of it (see bench/load/loadgen.py)."""
    _answer(api.base_url, data)  # fails loudly if the first request is refused
    base = api.base_url
    if durations.warmup:
        loadgen.wrk(wrk_binary, base, data, connections=SATURATING_CONNECTIONS, seconds=durations.warmup)
    meter = procs.CpuMeter(api.pid, database_name)
    peak = loadgen.wrk(wrk_binary, base, data, connections=SATURATING_CONNECTIONS, seconds=durations.probe)
    peak.cpu = meter.stop()
    target = LOAD_SHARE * peak.rps
    measurement = Measurement(name, peak, None, round(target, 1))
    if target < 1:
        measurement.note = "too slow to pace"
        return measurement
    # Many connections, each mostly thinking: the rate then hardly depends on the latency, which
    # is guessed as twice the machine's CPU time per request at the peak, then measured on a short
    # calibration run (a connection's cycle is think time + latency). A cycle stays under ~2 s:
    # uvicorn (the comparison) closes connections idle for 5 s, which wrk counts as errors.
    connections = max(8, min(SATURATING_CONNECTIONS, round(target * MAX_CYCLE_SECONDS)))
    cycle_ms = 1000 * connections / target
    service_ms = 1000 * (os.cpu_count() or 1) / peak.rps
    think = max(cycle_ms - 2 * service_ms, 0.5)
    trial = loadgen.wrk(wrk_binary, base, data, connections=connections, seconds=durations.calibrate, think_ms=think)
    if 0 < trial.rps < 0.95 * peak.rps:
        think = max(cycle_ms - (1000 * connections / trial.rps - think), 0.5)
    meter = procs.CpuMeter(api.pid, database_name)
    paced = loadgen.wrk(wrk_binary, base, data, connections=connections, seconds=durations.measure, think_ms=think)
    paced.cpu = meter.stop()
    measurement.paced = paced
    share = paced.rps / peak.rps if peak.rps else 0
    if abs(share - LOAD_SHARE) > 0.1:
        measurement.note = f"paced run reached {100 * share:.0f}% of the peak, not {100 * LOAD_SHARE:.0f}%"
    errors = peak.error_count + paced.error_count
    if errors:
        measurement.note = (
            measurement.note + "; " if measurement.note else ""
        ) + f"{errors} errors (saturation {peak.errors}, paced {paced.errors})"
    print(
        f"  {name:<14} peak {peak.rps:8,.0f}/s | at {paced.rps:7,.0f}/s ({100 * share:.0f}%): "
        f"p50 {paced.latency_ms['p50']:6.1f} ms  p99 {paced.latency_ms['p99']:6.1f} ms"
        + (f"  [{measurement.note}]" if measurement.note else ""),
        flush=True,
    )
    return measurement


def profile(
    name: str, data: Path, api: ApiServer, wrk_binary: str, dev_tools: Path, work: Path, durations: Durations
) -> dict[str, Any]:
    """py-spy on the API's processes while wrk saturates them with `name`'s requests."""
    from load import profile as py_spy

    seconds = max(durations.probe, 5)
    output = work / f"profile-{name}.txt"
    load: dict[str, WrkRun] = {}
    saturate = threading.Thread(
        target=lambda: load.update(
            run=loadgen.wrk(wrk_binary, api.base_url, data, connections=SATURATING_CONNECTIONS, seconds=seconds + 3)
        )
    )
    saturate.start()
    try:
        time.sleep(1.5)
        command = py_spy.record(str(dev_tools / "bin" / "py-spy"), api.pid, seconds, output)
    except RuntimeError as error:
        return {"error": str(error)}
    finally:
        saturate.join()
    found: dict[str, Any] = {"command": command.replace(str(REPO) + "/", ""), "summary": py_spy.summarize(output)}
    if "run" in load:
        found["rps_while_sampled"] = load["run"].rps
    print(
        f"  profiled {name}: " + ", ".join(f"{a} {s}%" for a, s in found["summary"]["self_by_library"][:6]), flush=True
    )
    return found


def _answer(base_url: str, data: Path) -> bytes:
    """The answer to the first request of a data file; an error unless it is a 2xx."""
    method, path, token, body = [*data.read_text().splitlines()[0].split("\t"), ""][:4]
    request = urllib.request.Request(base_url + path, method=method, data=body.encode() if body else None)  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return bytes(answer.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path} answered {error.code}: {error.read()[:300]!r}") from None


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _wrk_version(binary: str) -> str:
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    said = (result.stdout + result.stderr).strip()  # wrk --version exits with 1
    return said.splitlines()[0] if said else "unknown"


if __name__ == "__main__":
    main()
