# syntax=docker/dockerfile:1
# Townsquare: one image for the API (`townsquare run`, the default), job workers
# (`townsquare worker`) and migrations (`townsquare db upgrade`). See deploy/README.md.
#
#   docker build -t townsquare .
#   docker run --env-file townsquare.env -p 8000:8000 townsquare
#
# It needs DATABASE_URL (PostgreSQL >= 15) and a TOWNSQUARE_AUTH__JWT_SECRET of at least 32 random
# characters: the image runs in production mode, which refuses to start without them.

# The Python the project is tested with, and the uv of the Makefile.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_VERSION=0.13.8

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --- build: the virtual environment, exactly as uv.lock has it --------------------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The dependencies alone first: this layer is reused until uv.lock or pyproject.toml changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
# Then the project, installed as a package (not editable): the environment is the whole app.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the environment and the app's user; no uv, no compilers ------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 townsquare \
    && useradd --system --no-log-init --uid 10001 --gid townsquare --home-dir /var/lib/townsquare \
        --create-home --shell /usr/sbin/nologin townsquare
# Owned by root: the application cannot change its own code.
COPY --from=build /app/.venv /app/.venv
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/townsquare-entrypoint
COPY --chmod=0644 deploy/healthcheck.py /usr/local/lib/townsquare/healthcheck.py
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TOWNSQUARE_ENVIRONMENT=production \
    TOWNSQUARE_SERVER__HOST=0.0.0.0 \
    TOWNSQUARE_SERVER__PORT=8000 \
    TOWNSQUARE_DATA_DIR=/var/lib/townsquare
WORKDIR /var/lib/townsquare
USER 10001:10001
EXPOSE 8000
# Liveness of `townsquare run` (worker and migration containers turn it off: see compose.yaml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/.venv/bin/python", "/usr/local/lib/townsquare/healthcheck.py"]
# Exec form throughout: the entrypoint execs the command, which gets SIGTERM and stops gracefully.
ENTRYPOINT ["/usr/local/bin/townsquare-entrypoint"]
CMD ["townsquare", "run"]
