"""Settings: one root object with nested groups, read from `TOWNSQUARE_*` variables.

Nested groups use a double underscore: `TOWNSQUARE_AUTH__ACCESS_TOKEN_TTL=600`.
`DATABASE_URL` is also read without the prefix because every platform sets it so.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from limits import parse_many
from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values copied from examples and tutorials; a server that accepts one is not protected.
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "your-secret-key", "development", "dev"}
)
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # On shutdown, open requests (event streams never end by themselves) get this long.
    shutdown_grace_seconds: int = Field(default=5, ge=0)
    # Bigger request bodies are refused with 413 as they arrive, before they fill memory.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Browser origins allowed to call the API (CORS); none by default. JSON list in the
    # environment: TOWNSQUARE_SERVER__CORS_ORIGINS='["https://app.example.org"]'.
    cors_origins: list[str] = []
    # /docs and /openapi.json: on in development, off elsewhere unless turned on here.
    docs: bool | None = None
    # Addresses or networks of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are
    # believed (JSON list, e.g. '["10.0.0.0/8"]'). None by default: the peer is the client.
    trusted_proxies: list[str] = []
    # Serve HTTPS directly (PEM files); Strict-Transport-Security is sent then. The alternative
    # is TLS at a reverse proxy listed in trusted_proxies, which forwards X-Forwarded-Proto.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    # `townsquare run` applies migrations first. Off where a release step migrates once
    # (compose's `migrate`): an old process restarting during an upgrade would otherwise
    # find the database ahead of its own migrations and refuse to start.
    migrate_on_start: bool = True
    # The busiest GET pages (feed, post page, a user's posts) answered past FastAPI's routing
    # and dependency solving (kit/hot_routes.py); off, FastAPI's routes answer them, the same bytes.
    hot_routes: bool = True

    @model_validator(mode="after")
    def _certificate_with_its_key(self) -> Self:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("TLS needs both a certificate file and its key file")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the bad entry
        return value


class DatabaseSettings(BaseModel):
    pool_size: int = Field(default=10, ge=1)
    # No connections beyond the pool by default: under a burst, requests wait for one of the
    # pool's (a few cores of PostgreSQL gain nothing from more at once) instead of opening and
    # closing extra ones, each a new server process. Measured at saturation on the benchmark's
    # feed: +40% requests/s and -40% PostgreSQL CPU per request against an overflow of 10.
    max_overflow: int = Field(default=0, ge=0)
    pool_timeout: float = Field(default=10.0, gt=0)
    connect_timeout: int = Field(default=5, ge=1)
    # Bounds every statement so a stuck query cannot hold a connection forever.
    statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Prepared statements (psycopg prepares one after its fifth run on a connection) keep one
    # plan for any parameters. Under PostgreSQL's default ("auto") the feed's statement was
    # planned again at every run: its generic plan is costed with both of its ways to a page,
    # although one-time filters run only one. Planning it took more than running it (0.79 ms a
    # page against 0.35 with the generic plan, on the benchmark's large data). Every statement
    # here is keyed by ids, and search, whose plans depend on the words, asks for custom plans
    # in its own transaction.
    plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = "force_generic_plan"
    echo: bool = False


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    issuer: str = "townsquare"
    audience: str = "townsquare-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    # argon2id cost: OWASP's minimum (m=19 MiB, t=2, p=1) is the floor, not the default ceiling.
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Each hash takes tens of MiB and milliseconds of CPU; bound how many run at once.
    max_concurrent_hashes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)


class WorkerSettings(BaseModel):
    # Run the job worker inside every API process (nothing else to start); turn off when
    # separate `townsquare worker` processes do the work.
    in_process: bool = True
    concurrency: int = Field(default=4, ge=1, le=64)
    # A worker writes a heartbeat this often; one silent for `stalled_after_seconds` is taken
    # for dead, and its running jobs are retried by the recovery task (every `recover_every_seconds`,
    # as is the job table's upkeep: worker/upkeep.py).
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    stalled_after_seconds: float = Field(default=30.0, gt=0)
    recover_every_seconds: int = Field(default=10, ge=1, le=59)
    # Failed jobs retry with exponential backoff (2, 4, 8 ... seconds) this many times.
    max_attempts: int = Field(default=10, ge=1)
    # On shutdown, jobs in hand get this long to finish; then they are interrupted and retried.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _stalled_after_several_heartbeats(self) -> Self:
        if self.stalled_after_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("stalled_after_seconds must be at least twice heartbeat_seconds")
        return self


class NotificationSettings(BaseModel):
    # An idle event stream gets a comment line this often, so proxies keep it open; the
    # stream's session is checked then too (a logged-out stream ends within this time).
    stream_heartbeat_seconds: float = Field(default=10.0, gt=0)


class MastodonSettings(BaseModel):
    """The Mastodon-compatible client API (/api/v1, /api/v2, /oauth, /.well-known)."""

    enabled: bool = True
    # The instance's name and description as apps show them.
    title: str = "Townsquare"
    description: str = "A Townsquare server."
    contact_email: str = ""
    # How long an app's login lasts. Mastodon's tokens never expire and its clients never
    # refresh, so the default is ten years; logout, password change and deletion end it sooner.
    token_lifetime_days: int = Field(default=3650, ge=1, le=36500)


class LogSettings(BaseModel):
    # console: aligned lines for a person at a terminal; json: one object per line for a log
    # pipeline. Unset: console in development, json elsewhere.
    format: Literal["console", "json"] | None = None
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class MetricsSettings(BaseModel):
    # GET /metrics (Prometheus). It holds no per-user data, only route templates, counts and
    # timings; still, let only the monitoring network reach it (README: Logs and metrics).
    enabled: bool = True
    # When set, /metrics answers only `Authorization: Bearer <token>` (Prometheus scrape config:
    # `authorization: {credentials: ...}`), for deployments where its port is public.
    token: SecretStr | None = None

    @field_validator("token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        problem = None if value is None else secret_problem(value)
        if problem is not None:
            raise ValueError(f"the metrics token {problem}; use at least {MIN_SECRET_LENGTH} random characters")
        return value


class RateLimitSettings(BaseModel):
    """Limits in the `limits` notation: "5/minute;20/hour" means both at once (moving windows).

    Set one with e.g. TOWNSQUARE_RATE_LIMIT__WRITES_PER_USER="30/minute;500/hour".
    """

    # Password checks per login name (an account's email and its username count apart, so that
    # counts reveal nothing) and per account for password change and deletion: each attempt
    # counts, a correct password clears the count, so this bounds guesses at one password.
    login_per_account: str = "5/minute;20/hour"
    # Logins (right or wrong: each costs a password hash) and token refreshes per client address.
    login_per_address: str = "30/minute;300/hour"
    # Accounts created per client address (a failed sign-up, taken or malformed, is not one) ...
    registrations_per_address: str = "5/minute;50/day"
    # ... and sign-up attempts that reach the database (each hashes a password and may probe
    # whether an email or username is taken), created or not: a larger budget.
    signup_attempts_per_address: str = "30/minute;300/day"
    # Apps registered through the Mastodon API (`POST /api/v1/apps`) per client address: clients
    # register one at each login, so more than accounts, and still bounded.
    apps_per_address: str = "30/minute;300/day"
    # Posts, edits, deletions, likes, comments, follows and profile changes by one user, together.
    writes_per_user: str = "60/minute;1000/hour"
    # Reports made by one user (each lands in the moderators' queue), besides the writes.
    reports_per_user: str = "10/hour;50/day"
    # Prefix of the counters' keys in Redis, so several deployments can share one.
    key_prefix: str = "townsquare"

    @field_validator(
        "login_per_account",
        "login_per_address",
        "registrations_per_address",
        "signup_attempts_per_address",
        "apps_per_address",
        "reports_per_user",
        "writes_per_user",
    )
    @classmethod
    def _limits_notation(cls, value: str) -> str:
        parse_many(value)  # ValueError with the offending text
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TOWNSQUARE_",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
        # A refusal to start must not print the (perhaps nearly right) secret it refused.
        hide_input_in_errors=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TOWNSQUARE_DATABASE_URL")
    )
    data_dir: Path = Path(".data")
    server: ServerSettings = ServerSettings()
    db: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    worker: WorkerSettings = WorkerSettings()
    notifications: NotificationSettings = NotificationSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()
    mastodon: MastodonSettings = MastodonSettings()
    # All rate limits on or off (TOWNSQUARE_RATE_LIMIT_ENABLED=false for load tests).
    rate_limit_enabled: bool = True
    # Rate-limit counters live in this Redis, shared by every API process; in each process's
    # memory when unset. `REDIS_URL` is read without the prefix, like DATABASE_URL.
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "TOWNSQUARE_REDIS_URL"))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and value.partition("://")[0] not in {"redis", "rediss", "unix"}:
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @property
    def docs_enabled(self) -> bool:
        if self.server.docs is not None:
            return self.server.docs
        return self.environment is Environment.DEVELOPMENT

    @model_validator(mode="after")
    def _require_strong_secret_outside_development(self) -> Self:
        if self.environment is Environment.DEVELOPMENT:
            return self
        if self.db.echo:
            raise ValueError(
                "TOWNSQUARE_DB__ECHO is a debugging aid (it logs every statement); it is refused outside development"
            )
        problem = secret_problem(self.auth.jwt_secret)
        if problem is not None:
            raise ValueError(
                f"TOWNSQUARE_AUTH__JWT_SECRET {problem}; outside development the server "
                f"needs a random secret of at least {MIN_SECRET_LENGTH} characters "
                '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return self

    def jwt_secret(self) -> str:
        """The signing secret; in development one is generated once and kept under data_dir."""
        if self.auth.jwt_secret is not None and secret_problem(self.auth.jwt_secret) is None:
            return self.auth.jwt_secret.get_secret_value()
        if self.environment is not Environment.DEVELOPMENT:  # pragma: no cover - validated above
            raise RuntimeError("no usable JWT secret")
        return _development_secret(self.data_dir)


def secret_problem(secret: SecretStr | None) -> str | None:
    if secret is None:
        return "is not set"
    value = secret.get_secret_value()
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        return "is a placeholder"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def _development_secret(data_dir: Path) -> str:
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: processes starting
        # at once never read a half-written secret, and the first link wins.
        fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".jwt-secret-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    value = path.read_text().strip()
    problem = secret_problem(SecretStr(value))
    if problem is not None:
        raise ValueError(f"{path} {problem}; delete it to have a new one generated")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
