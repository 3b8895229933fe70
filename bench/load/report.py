"""The run's report: bench/results/<time>-<size>.json (every figure) and .md (for people)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = (
    "fastapi",
    "starlette",
    "pydantic",
    "granian",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "psycopg",
    "psycopg-binary",
    "procrastinate",
    "structlog",
    "prometheus-client",
    "pyjwt",
)
SCENARIOS = {
    "feed-typical": "GET /feed, typical user",
    "mastodon-home": "GET /api/v1/timelines/home (Mastodon API, app token), the same users",
    "web-home": "GET / (the web client's feed page, sign-in cookie), the same users",
    "feed-heavy": "GET /feed, user following 2,000+",
    "post": "GET /posts/{id}",
    "user-posts": "GET /users/{id}/posts",
    "search-posts": "GET /search?type=posts",
    "search-users": "GET /search?type=users",
    "create-post": "POST /posts",
    "like": "POST /posts/{id}/likes",
    "notifications": "GET /users/{id}/notifications",
}


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    release = ""
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                release = line.split("=", 1)[1].strip('"')
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory / 2**20, 1),
        "kernel": platform.release(),
        "os": release,
        "load_average_at_start": list(os.getloadavg()),
    }


def versions(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
        return result.stdout.strip()

    libraries = {}
    for name in LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "townsquare_commit": git("rev-parse", "--short=12", "HEAD"),
        "working_tree_changed": bool(git("status", "--porcelain", "--untracked-files=no")),
        "libraries": libraries,
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    scenarios = results["api"]["scenarios"]

    def latency(name: str, quantile: str) -> float | None:
        paced = scenarios.get(name, {}).get("paced")
        return paced["latency_ms"][quantile] if paced else None

    rows = []
    # The web client's feed page "renders in under 50 ms of server time" (issue 17): the
    # typical page, its median; its p99 is in the scenario table beside the API's.
    for name, quantile, limit in (
        ("feed-typical", "p99", 25.0),
        ("web-home", "p50", 50.0),
        ("feed-heavy", "p99", 100.0),
        ("search-posts", "p99", 50.0),
        ("search-users", "p99", 50.0),
    ):
        value = latency(name, quantile)
        rows.append(
            {
                "target": f"{name}: {quantile} at ~70% load < {limit:g} ms",
                "value": value,
                "met": value is not None and value < limit,
            }
        )
    # Issue 20: the Python layer costs less than PostgreSQL on every hot read.
    for name, label, minimum in (
        ("feed-typical", "feed (typical)", 0.6),
        ("feed-heavy", "feed (following 2,000+)", 0.6),
        ("post", "post page", 0.15),
    ):
        ratio = results.get("ratios", {}).get(name, {}).get("ratio")
        rows.append(
            {
                "target": f"{label}: API / raw SQL throughput >= {minimum:g}",
                "value": ratio,
                "met": ratio is not None and ratio >= minimum,
            }
        )
    cores = int(results.get("machine", {}).get("cpus") or 1)
    for name, label in (("post", "post page"), ("user-posts", "a user's posts")):
        measured = scenarios.get(name)
        api_ms = cpu_ms(measured["saturation"], cores, "api") if measured else None
        rows.append(
            {
                "target": f"{label}: API CPU per request <= 0.5 ms",
                "value": api_ms,
                "met": api_ms is not None and api_ms <= 0.5,
            }
        )
    startup = results.get("startup", {})
    for key, label, limit in (
        ("api_ready_seconds", "townsquare run: /readyz answers within 2 s of start", 2.0),
        ("worker_first_job_seconds", "townsquare worker: its first job done within 1 s of start", 1.0),
    ):
        seconds = startup.get(key)
        rows.append({"target": label, "value": seconds, "met": seconds is not None and seconds <= limit})
    native, adapted = scenarios.get("feed-typical"), scenarios.get("mastodon-home")
    if native and adapted:
        native_ms = cpu_ms(native["saturation"], cores, "api")
        adapted_ms = cpu_ms(adapted["saturation"], cores, "api")
        cost = adapted_ms / native_ms if native_ms and adapted_ms else None
        rows.append(
            {
                "target": "Mastodon home timeline: API CPU per request <= 1.15 x GET /feed's",
                "value": cost,
                "met": cost is not None and cost <= 1.15,
            }
        )
    for server, memory in results.get("memory", {}).items():
        workers = [value for key, value in memory.items() if key.startswith("worker") and value is not None]
        largest = max(workers, default=None)
        rows.append(
            {
                "target": f"{server}: each API process < 250 MB RSS after the run",
                "value": largest,
                "met": largest is not None and largest * 2**20 < 250e6,
            }
        )
    return rows


CPU_COLUMN = "CPU: api / pg / loadgen / other / idle %"


def _latency(figures: dict[str, Any] | None, name: str) -> float | None:
    return float(figures["latency_ms"][name]) if figures else None


def _target_value(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    # Three decimals below 1 (a ratio): 0.496 must not read as a missed 0.50.
    return f"{value:.{3 if abs(value) < 1 else 2}f}"


def _ms(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def cpu_ms(figures: dict[str, Any], cores: int, kind: str) -> float | None:
    """CPU time of `kind` per request (or transaction) in a run, from its share of all cores:
    a figure that other work on the machine changes much less than requests/s."""
    done = figures.get("requests") or figures.get("transactions")
    share = figures.get("cpu", {}).get(kind)
    if not done or share is None:
        return None
    return float(share) / 100 * cores * float(figures["seconds"]) * 1000 / float(done)


def _time_per_request(results: dict[str, Any], name: str, found: dict[str, Any], cores: int) -> list[str]:
    """Where a request's API CPU goes: each library's share of the samples times the API's CPU
    per request at saturation (a syscall's time, the kernel's, counts for the library making it)."""
    measured = results.get("api", {}).get("scenarios", {}).get(name)
    api_ms = cpu_ms(measured["saturation"], cores, "api") if measured else None
    if api_ms is None:
        return []
    layers = ", ".join(
        f"{area} {share / 100 * api_ms * 1000:.0f}" for area, share in found["summary"]["self_by_library"]
    )
    return [f"Per request, µs of the API's {api_ms * 1000:.0f} µs of CPU: {layers}", ""]


def summary_table(results: dict[str, Any]) -> str:
    cores = int(results["machine"]["cpus"] or 1)
    lines = [
        "| scenario | peak req/s | at ~70%: req/s | p50 ms | p99 ms | errors | CPU ms/req: API | PostgreSQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, measured in results["api"]["scenarios"].items():
        saturation, paced = measured["saturation"], measured.get("paced")
        errors = sum(saturation["errors"].values()) + (sum(paced["errors"].values()) if paced else 0)
        lines.append(
            f"| {SCENARIOS.get(name, name)} | {saturation['rps']:,.0f} | "
            + (
                f"{paced['rps']:,.0f} ({100 * paced['rps'] / saturation['rps']:.0f}%)"
                if paced and saturation["rps"]
                else "-"
            )
            + f" | {_ms(_latency(paced, 'p50'))} | {_ms(_latency(paced, 'p99'))} | {errors}"
            + f" | {_ms(cpu_ms(saturation, cores, 'api'), 2)} | {_ms(cpu_ms(saturation, cores, 'postgres'), 2)} |"
        )
    lines += [
        "",
        "| page | API req/s | raw SQL tx/s (pgbench) | API / SQL | PostgreSQL CPU ms/tx under pgbench |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, ratio in results.get("ratios", {}).items():
        raw = results["raw_sql"][name]
        lines.append(
            f"| {ratio['label']} | {ratio['api_rps']:,.0f} | {ratio['sql_tps']:,.0f} | {ratio['ratio']:.3f} | "
            f"{_ms(cpu_ms(raw, cores, 'postgres'), 2)} |"
        )
    servers = results.get("servers", {})
    if servers:
        lines += ["", "| server, GET /feed typical | peak req/s | p50 ms | p99 ms at ~70% |", "|---|---:|---:|---:|"]
        for server, measured in servers.items():
            paced = measured.get("paced")
            lines.append(
                f"| {server} | {measured['saturation']['rps']:,.0f} | {_ms(_latency(paced, 'p50'))}"
                f" | {_ms(_latency(paced, 'p99'))} |"
            )
    lines += ["", "| target | value | met |", "|---|---:|:---:|"]
    for row in results.get("targets", []):
        lines.append(f"| {row['target']} | {_target_value(row['value'])} | {'yes' if row['met'] else '**no**'} |")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    run, machine_, database = results["run"], results["machine"], results["database"]
    versions_ = results["versions"]
    cores = int(machine_["cpus"] or 1)
    out = [
        f"# Benchmark: preset `{run['size']}` (seed {run['seed']}), {run['started']}",
        "",
        f"`make bench SIZE={run['size']}` took {run['seconds'] / 60:.1f} minutes. "
        f"Machine: {machine_['cpus']} x {machine_['cpu_model']}, {machine_['memory_gib']} GiB, {machine_['os']}, "
        f"kernel {machine_['kernel']}; load average at the start {machine_['load_average_at_start'][0]:.2f}. "
        "The API, PostgreSQL and the load generators share it.",
        "",
        "## Summary",
        "",
        summary_table(results),
        "",
        "## Method",
        "",
        *[f"- {line}" for line in results["method"]],
        "",
        "## Data",
        "",
        f"PostgreSQL {database['server_version']} ({'embedded' if database['embedded'] else 'DATABASE_URL'}), "
        f"database {database['database_mib']:,} MiB, migration `{database['migration']}`; "
        + ("template reused" if database["reused"] else f"loaded in {database['load_seconds']:.0f} s")
        + f", copied for this run in {database['copy_seconds']:.1f} s.",
        "",
        "| table | rows |",
        "|---|---:|",
        *[f"| {table} | {count:,} |" for table, count in database["rows"].items()],
        "",
        f"Following per user: {json.dumps(database['following'])}. Fixtures: {json.dumps(results['fixtures'])}.",
        f"Server settings: {json.dumps(database['server_settings'])}.",
        "",
        "## Every figure",
        "",
        "| scenario | run | connections | think ms | req/s | p50 | p90 | p99 | p99.9 | max | errors | "
        + CPU_COLUMN
        + " |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    every = dict(results["api"]["scenarios"])
    every.update({f"{server} feed-typical": measured for server, measured in results.get("servers", {}).items()})
    for name, measured in every.items():
        for label in ("saturation", "paced"):
            figures = measured.get(label)
            if not figures:
                continue
            latency, cpu = figures["latency_ms"], figures.get("cpu", {})
            shares = " / ".join(
                str(cpu.get(key, "-")) for key in ("api", "postgres", "load generator", "other", "idle")
            )
            out.append(
                f"| {name} | {label} | {figures['connections']} | {figures['think_ms']} | {figures['rps']:,.0f} | "
                f"{latency['p50']} | {latency['p90']} | {latency['p99']} | {latency['p999']} | {latency['max']} | "
                f"{sum(figures['errors'].values())} | {shares} |"
            )
        if measured.get("note"):
            out.append(f"| {name} | note: {measured['note']} |" + " |" * 10)  # 12 cells, as the header
    out += [
        "",
        "Raw SQL (pgbench, `-M prepared`):",
        "",
        "| page | clients | scripts | tx/s | mean latency ms | failed | CPU: api / pg / loadgen / other / idle % |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, figures in results.get("raw_sql", {}).items():
        cpu = figures.get("cpu", {})
        shares = " / ".join(str(cpu.get(key, "-")) for key in ("api", "postgres", "load generator", "other", "idle"))
        out.append(
            f"| {name} | {figures['clients']} | {figures['scripts']} | {figures['tps']:,.0f} | "
            f"{figures['latency_ms']} | {figures['failed']} | {shares} |"
        )
    out += ["", "## Memory (RSS after the run, MiB)", ""]
    for server, memory in results.get("memory", {}).items():
        out.append(f"- {server}: " + ", ".join(f"{key}: {_ms(value)}" for key, value in memory.items()))
    profile = results.get("profile")
    if profile:
        out += ["", "## Profile", ""]
        for name, found in profile.items():
            if "error" in found:
                out.append(f"- {name}: {found['error']}")
                continue
            out += [
                f"### {name}",
                "",
                f"`{found['command']}` ({found['summary']['samples']:,} samples)",
                "",
                "Self time by library: "
                + ", ".join(f"{area} {share}%" for area, share in found["summary"]["self_by_library"]),
                "",
                *_time_per_request(results, name, found, cores),
                "| top self time | % | | app functions, total time | % |",
                "|---|---:|---|---|---:|",
            ]
            own, total = found["summary"]["top_self"], found["summary"]["top_total"]
            for index in range(max(len(own), len(total))):
                left = own[index] if index < len(own) else ("", "")
                right = total[index] if index < len(total) else ("", "")
                out.append(f"| `{left[0]}` | {left[1]} | | `{right[0]}` | {right[1]} |")
            out.append("")
    out += [
        "",
        "## Versions",
        "",
        f"Python {versions_['python']}, townsquare {versions_['townsquare_commit']}"
        + (" (with uncommitted changes)" if versions_["working_tree_changed"] else "")
        + ", "
        + ", ".join(f"{name} {version}" for name, version in versions_["libraries"].items())
        + ", "
        + ", ".join(f"{tool}: {version}" for tool, version in versions_.get("tools", {}).items())
        + ".",
    ]
    out += ["", "## Notes", "", *[f"- {note}" for note in results.get("notes", [])]]
    scripts = results.get("pgbench_scripts", {})
    if scripts:
        out += ["", "## The pgbench scripts (first of each set; captured from the app at run time)", ""]
        for name, script in scripts.items():
            out += [f"{name}:", "", "```sql", script.rstrip(), "```", ""]
    return "\n".join(out) + "\n"


def write(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{results['run']['stamp']}-{results['run']['size']}"
    json_path, markdown_path = directory / f"{stem}.json", directory / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown_path.write_text(markdown(results))
    return json_path, markdown_path
