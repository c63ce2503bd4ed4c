#!/bin/sh
# Creates Temporal's two PostgreSQL databases (temporal, temporal_visibility) and brings their schemas up to the
# version this admin-tools image ships, then exits. Safe to run again: an existing database is kept, setup-schema
# does not lower a version, and update-schema applies only the versions a newer image adds. That is how an upgrade
# of the Temporal images gets its schema changes (docs/docker-compose.md).
#
# Runs in temporalio/admin-tools (temporal-docker-compose.yml, service temporal-schema). temporal-sql-tool reads its
# connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD; the password is never printed.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN is required (postgres12)}"
: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
SCHEMA_ROOT="${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"

# database name, then its schema folder under $SCHEMA_ROOT
for entry in temporal:temporal temporal_visibility:visibility; do
  db="${entry%%:*}"
  dir="$SCHEMA_ROOT/${entry#*:}/versioned"
  echo "temporal-schema: $db: create database"
  # The postgres plugin already treats an existing database as success; the check below keeps a re-run working
  # should a driver report it as an error instead.
  if ! out="$(temporal-sql-tool --db "$db" create 2>&1)"; then
    case "$out" in
      *"already exists"*) echo "temporal-schema: $db: already exists" ;;
      *)
        printf '%s\n' "$out" >&2
        exit 1
        ;;
    esac
  fi
  echo "temporal-schema: $db: setup-schema"
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  echo "temporal-schema: $db: update-schema from $dir"
  temporal-sql-tool --db "$db" update-schema -d "$dir"
done
echo "temporal-schema: done"
