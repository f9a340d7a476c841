#!/usr/bin/env bash
# Starts the whole stack with live reload: API (:3000), grading worker, web demo (:5173).
# Uses the running PostgreSQL and Redis (or starts local ones), migrates and seeds. Ctrl-C stops all.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_dependencies
ensure_services

DB_NAME="${VSTEP_DB_NAME:-vstep}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DB_NAME}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
API_PORT="${API_PORT:-3000}"
WEB_PORT="${WEB_PORT:-5173}"
export API_URL="${API_URL:-http://127.0.0.1:$API_PORT}"
if [[ "$DATABASE_URL" == */"$DB_NAME" ]] && ! psql "${DATABASE_URL%/*}/postgres" -tAc "select 1 from pg_database where datname='$DB_NAME'" | grep -q 1; then
  log "creating database $DB_NAME"
  psql "${DATABASE_URL%/*}/postgres" -qc "create database \"$DB_NAME\""
fi
log "migrating and seeding"
(cd "$ROOT/packages/db" && bun src/cli.ts seed)

pids=()
# Stop whole process trees: each service runs under a subshell and a log prefixer.
kill_tree() { local child; for child in $(pgrep -P "$1"); do kill_tree "$child"; done; kill -TERM "$1" 2>/dev/null || true; }
cleanup() { trap - INT TERM EXIT; for pid in "${pids[@]}"; do kill_tree "$pid"; done; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
prefix() { local name=$1; shift; ("$@" 2>&1 | sed -u "s/^/[$name] /") & pids+=($!); }

prefix api bash -c "cd '$ROOT/apps/api' && PORT=$API_PORT exec bun --watch src/index.ts"
prefix worker bash -c "cd '$ROOT/workers/grader-py' && exec uv run --frozen python -m grader --watch src"
prefix web bash -c "cd '$ROOT/apps/web-demo' && PORT=$WEB_PORT HOST=127.0.0.1 exec bun --hot src/server.ts"
log "API $API_URL (OpenAPI at /openapi) · web demo http://127.0.0.1:$WEB_PORT · Ctrl-C to stop"
wait -n "${pids[@]}"
