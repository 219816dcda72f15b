#!/bin/sh
# The official image's contract, as far as compose.yaml uses it: a first start makes the
# cluster with POSTGRES_USER (password POSTGRES_PASSWORD, required for connections over the
# network) and the database POSTGRES_DB; every start then serves on every interface.
set -eu
user="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password_file="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > "$password_file"
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
        --auth-local=trust --auth-host=scram-sha-256 > /dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        echo "CREATE DATABASE \"$database\"" | postgres --single -D "$PGDATA" postgres > /dev/null
    fi
fi
if [ "${1:-}" = postgres ]; then
    shift
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
