#!/usr/bin/env bash
# `bun run bench`: finds (or installs) uv and wrk like the other scripts do, raises the open-file
# limit for the SSE fan-out (10,000 sockets on each side), then runs bench/run.ts.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_uv
if ! command -v wrk >/dev/null 2>&1 || ! command -v rsvg-convert >/dev/null 2>&1; then
  log "installing wrk and rsvg-convert (librsvg2-bin) from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk librsvg2-bin >/dev/null
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Bun's fetch runs at most 256 requests at once by default; the fan-out holds 10,000 streams open.
export BUN_CONFIG_MAX_HTTP_REQUESTS=20000
cd "$ROOT"
exec bun bench/run.ts "$@"
