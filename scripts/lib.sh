# Shared by scripts/*.sh: installs what the project needs, idempotently. Source it, don't run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUN_VERSION="1.4.4"
export UV_PYTHON_DOWNLOADS=never
export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# Tools this script installs: npm's global bin (bun), and a project-local venv for uv (the system
# Python may refuse pip installs, PEP 668). Appended, so the machine's own tools keep precedence.
TOOLS_VENV="$ROOT/.tools"
PATH="$PATH:$(npm prefix -g 2>/dev/null)/bin:$TOOLS_VENV/bin"
export PATH

ensure_bun() {
  if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
    log "installing bun $BUN_VERSION from npm"
    npm install -g --no-fund --no-audit "bun@$BUN_VERSION" >/dev/null
  fi
}

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv from PyPI into $TOOLS_VENV"
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check uv
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

# The fault suite (apps/api/test/e2e/faults.test.ts, bench/faults.ts) runs two API instances behind a
# real reverse proxy: nginx from Debian, started privately by the test (the system service stays off).
ensure_nginx() {
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    log "installing nginx from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  fi
}

# Spoken answers: ffmpeg decodes and checks recordings (API and worker); espeak-ng and sox make
# the test speech. From Debian, only when one is missing.
ensure_audio_tools() {
  if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v espeak-ng >/dev/null 2>&1 || ! command -v sox >/dev/null 2>&1; then
    log "installing ffmpeg, espeak-ng and sox from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg espeak-ng sox >/dev/null
  fi
}

install_dependencies() {
  ensure_bun
  ensure_uv
  ensure_audio_tools
  log "installing JavaScript dependencies (bun install)"
  (cd "$ROOT" && bun install --frozen-lockfile >/dev/null)
  log "installing Python dependencies (uv sync)"
  (cd "$ROOT/workers/grader-py" && uv sync --frozen --quiet)
  (cd "$ROOT/tools/api-fuzz" && uv sync --frozen --quiet)
}

# PostgreSQL and Redis: use the running ones; start the machine's own if they are down.
ensure_services() {
  local pg_host="${PGHOST:-127.0.0.1}" pg_port="${PGPORT:-5432}"
  if ! pg_isready -q -h "$pg_host" -p "$pg_port" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      log "starting the local PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    for _ in $(seq 1 50); do pg_isready -q -h "$pg_host" -p "$pg_port" && break; sleep 0.2; done
    pg_isready -q -h "$pg_host" -p "$pg_port" || { echo "PostgreSQL is not reachable at $pg_host:$pg_port" >&2; exit 1; }
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting a local Redis (append-only, noeviction)"
    mkdir -p "$ROOT/.data/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$ROOT/.data/redis" \
      --appendonly yes --maxmemory-policy noeviction --logfile "$ROOT/.data/redis/redis.log"
    for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}
