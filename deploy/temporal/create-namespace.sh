#!/bin/sh
# Waits for the Temporal server, then creates Grantflow's namespace and its custom search attributes, and exits.
# Safe to run again: what exists is kept (a retention changed here does not alter an existing namespace; use
# `temporal operator namespace update --retention …` for that). `grantflow dev` registers the same attributes on its
# dev server (devstack/search-attributes.ts); test/deploy.test.ts checks that the list below matches that file.
#
# Runs in temporalio/admin-tools (temporal-docker-compose.yml, service temporal-setup) with TEMPORAL_ADDRESS and
# TEMPORAL_NAMESPACE set; NAMESPACE_RETENTION (default 30d) is how long closed workflow histories are kept.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required (host:port of the Temporal frontend)}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
PAUSE_SECONDS="${SETUP_PAUSE_SECONDS:-2}"

# name:type, as `temporal operator search-attribute create` spells the types.
SEARCH_ATTRIBUTES="
GrantflowStatus:Keyword
GrantflowRequester:Keyword
GrantflowFlow:Keyword
GrantflowResource:Keyword
GrantflowPermission:Keyword
GrantflowExpiresAt:Datetime
"

log() { echo "temporal-setup: $*"; }

# Runs "$@" until it succeeds, at most $ATTEMPTS times; a namespace just created takes a moment to be usable.
retry() {
  what="$1"
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$ATTEMPTS" ]; then
      log "gave up: $what (after $ATTEMPTS attempts)"
      return 1
    fi
    log "waiting: $what (attempt $n/$ATTEMPTS)"
    n=$((n + 1))
    sleep "$PAUSE_SECONDS"
  done
}

t() { temporal --address "$TEMPORAL_ADDRESS" "$@"; }

healthy() { t operator cluster health >/dev/null 2>&1; }
namespace_exists() { t operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; }
attributes() { t operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null; }
# True when the list shows the attribute with that type (columns: name, type).
has_attribute() { attributes | awk -v n="$1" -v t="$2" '$1 == n && $2 == t { found = 1 } END { exit !found }'; }
create_attribute() {
  has_attribute "$1" "$2" ||
    t operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$1" --type "$2" >/dev/null
}

retry "Temporal at $TEMPORAL_ADDRESS to be serving" healthy
log "Temporal at $TEMPORAL_ADDRESS is serving"

if namespace_exists; then
  log "namespace $TEMPORAL_NAMESPACE exists"
else
  log "creating namespace $TEMPORAL_NAMESPACE (retention $RETENTION)"
  t operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$RETENTION" ||
    namespace_exists # another run created it in between
  retry "namespace $TEMPORAL_NAMESPACE to be visible" namespace_exists
fi

for entry in $SEARCH_ATTRIBUTES; do
  name="${entry%%:*}"
  type="${entry#*:}"
  retry "search attribute $name ($type)" create_attribute "$name" "$type"
  log "search attribute $name ($type) is registered"
done
log "done"
