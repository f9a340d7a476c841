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

export API_PORT WEB_PORT
log "API $API_URL (OpenAPI at /openapi) · web demo http://127.0.0.1:$WEB_PORT · Ctrl-C to stop"
# turbo runs each package's `dev` script: the API (bun --watch), the worker (uv run python -m grader
# --watch) and the web demo (bun --hot); Ctrl-C stops all three.
cd "$ROOT"
exec bun x turbo run dev --filter=@vstep/api --filter=@vstep/grader-py --filter=@vstep/web-demo --ui=stream
