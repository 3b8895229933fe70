"""Structured logs: every line, whoever writes it, goes through one structlog formatter to stdout.

Our own code logs with structlog (`structlog.stdlib.get_logger`) or plain `logging.getLogger`;
uvicorn, SQLAlchemy, Alembic and procrastinate log through the standard library. Both end in the
same `ProcessorFormatter`, so every line has the same fields (`timestamp`, `level`, `logger`,
`event`, and `request_id` while a request is handled, `job_id` and `task` while a job runs),
rendered for a person (console) in development and as one JSON object per line elsewhere.

What never reaches a line: request bodies, form fields and headers are never logged; tracebacks
are rendered without local variables (they would show passwords); an `access_token` query
parameter in any URL-like field is redacted.
"""

from __future__ import annotations

import logging
import re
import sys
from urllib.parse import unquote_plus

import structlog
from asgi_correlation_id import correlation_id
from structlog.typing import EventDict, Processor, WrappedLogger

from townsquare.config import Environment, Settings
from townsquare.db.outage import ConnectionFailures

# Lines that say nothing an operator needs: Alembic's plugins at every start; procrastinate's at
# every deferral and every periodic tick (the `job` line tells that the job ran); a warning for
# each request whose X-Request-ID is not a UUID (routine for clients with ids of their own).
QUIETER = {
    "alembic.runtime.plugins": logging.WARNING,
    "procrastinate.jobs": logging.WARNING,
    "procrastinate.periodic": logging.WARNING,
    "asgi_correlation_id": logging.ERROR,
}

# procrastinate's own lines at the start and the end of every job: `jobs.py` writes one instead.
PROCRASTINATE_JOB_ACTIONS = frozenset(
    {"start_job", "job_success", "job_error", "job_error_retry", "job_aborted", "job_aborted_retry"}
)


def configure_logging(settings: Settings) -> None:
    """Send every log line to stdout in one shape. Called again, the last call wins."""
    console = (settings.log.format or _default_format(settings.environment)) == "console"
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # a DEBUG line costs nothing unless DEBUG is on
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    rendering: list[Processor]
    if console:
        rendering = [
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.processors.format_exc_info,  # a plain traceback string, redacted below
            redact_tokens,
            structlog.dev.ConsoleRenderer(
                colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
            ),
        ]
    else:
        rendering = [
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # a plain traceback string, without locals
            redact_tokens,
            structlog.processors.JSONRenderer(),
        ]
    handler = StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    handler.addFilter(_not_a_procrastinate_job_line)
    handler.addFilter(ConnectionFailures())  # a database outage is two lines (db/outage.py)
    handler.addFilter(_not_uvicorns_copy_of_a_logged_error)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, StdoutHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    for name, level in QUIETER.items():
        logging.getLogger(name).setLevel(level)
    # Served by plain `uvicorn`, its own handlers print in their own format: ours print instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Its access log shows raw URLs (tokens in query strings): the request line replaces it.
    logging.getLogger("uvicorn.access").disabled = True


def _default_format(environment: Environment) -> str:
    return "console" if environment is Environment.DEVELOPMENT else "json"


class StdoutHandler(logging.Handler):
    """Writes each line to `sys.stdout` as it is then (test runners swap it), and flushes it,
    so a line is out at once also when stdout is a pipe (a container's log)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def add_request_id(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """The id of the request being handled (asgi-correlation-id keeps it in a context variable)."""
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def redact_tokens(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """No `access_token=` (event streams) anywhere in a line, tracebacks included."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact_query(value)
    return event_dict


# The parameter as the application decodes it (`access%5Ftoken=` too), up to where a query value
# ends in a URL, a header or a sentence.
_ACCESS_TOKEN = re.compile(r"(access(?:_|%5f)token=)[^&\s\"'#]+", re.IGNORECASE)


def redact_query(text: str) -> str:
    redacted = _ACCESS_TOKEN.sub(r"\1[redacted]", text)
    # Any letter may come percent-encoded (`%61ccess_token=`): then the line is shown decoded.
    if "%" in redacted and _ACCESS_TOKEN.search(decoded := unquote_plus(redacted)):
        return _ACCESS_TOKEN.sub(r"\1[redacted]", decoded)
    return redacted


def _not_uvicorns_copy_of_a_logged_error(record: logging.LogRecord) -> bool:
    # An unhandled error is logged by our handler with its request id; uvicorn then logs the
    # same traceback again as the exception leaves the app.
    return not (
        record.name == "uvicorn.error"
        and record.getMessage().startswith("Exception in ASGI application")
        and correlation_id.get() is not None
    )


def _not_a_procrastinate_job_line(record: logging.LogRecord) -> bool:
    action = getattr(record, "action", None)
    return not (record.name.startswith("procrastinate.") and action in PROCRASTINATE_JOB_ACTIONS)


# Run for structlog's events and for the standard library's records alike.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,  # job_id and task, bound by jobs.py
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
]
