#!/bin/sh
# The image's entrypoint: secrets given as files (compose or Kubernetes secrets) become the
# environment variables Townsquare reads, then the command replaces this shell (exec), so it
# runs as the container's main process and receives SIGTERM itself.
#
#   TOWNSQUARE_AUTH__JWT_SECRET_FILE=/run/secrets/jwt_secret  ->  TOWNSQUARE_AUTH__JWT_SECRET
#   PGPASSWORD_FILE=/run/secrets/postgres_password            ->  PGPASSWORD (libpq's, for DATABASE_URL)
#   DATABASE_URL_FILE, REDIS_URL_FILE                         ->  DATABASE_URL, REDIS_URL
set -eu

for name in TOWNSQUARE_AUTH__JWT_SECRET PGPASSWORD DATABASE_URL REDIS_URL; do
    file=$(printenv "${name}_FILE" || true)
    [ -n "$file" ] || continue
    if [ -n "$(printenv "$name" || true)" ]; then
        echo "townsquare: both $name and ${name}_FILE are set; set one" >&2
        exit 1
    fi
    if [ ! -r "$file" ]; then
        echo "townsquare: ${name}_FILE names $file, which cannot be read by uid $(id -u)" >&2
        exit 1
    fi
    value=$(cat "$file")  # without the trailing newline
    export "$name=$value"
    unset "${name}_FILE"
done

exec "$@"
