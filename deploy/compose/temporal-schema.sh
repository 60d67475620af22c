#!/bin/sh
# One-shot (temporalio/admin-tools image): creates Temporal's two PostgreSQL databases and brings their
# schemas to the version this server image ships. Safe to run on every `docker compose up`: existing
# databases are kept and update-schema only applies what is missing.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${POSTGRES_PWD:?set POSTGRES_PWD}"
port="${DB_PORT:-5432}"
export SQL_PASSWORD="$POSTGRES_PWD"

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema_dir=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) schema_dir=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  if sql --db "$db" create 2>/dev/null; then
    echo "temporal-schema: created database $db"
    sql --db "$db" setup-schema -v 0.0
  else
    echo "temporal-schema: database $db exists"
  fi
  sql --db "$db" update-schema -d "$schema_dir"
done
echo "temporal-schema: done"
