#!/usr/bin/env bash
# Runs every check and every test: generated-code drift, typecheck, lint, TypeScript tests (bun test,
# per package) and Python tests (pytest), against real PostgreSQL and Redis. Ends with one line
# "N passed, N failed" counting every test of every runner. Exit status is non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_dependencies
ensure_chromium
ensure_services

REPORTS="$(mktemp -d "${TMPDIR:-/tmp}/vstep-test-reports.XXXXXX")"
trap 'rm -rf "$REPORTS"' EXIT
failed_steps=()
step() { # step NAME COMMAND...: run a check, remember a failure, keep going so the summary is complete
  local name=$1; shift
  log "$name"
  if ! "$@"; then failed_steps+=("$name"); fi
}

step "contracts: generated code matches its source" bash -c "cd '$ROOT/packages/contracts' && bun scripts/generate.ts --check"
step "typecheck (tsc, every package)" bun x turbo run typecheck --output-logs=errors-only
step "python: ruff" bash -c "cd '$ROOT/workers/grader-py' && uv run --frozen ruff check && uv run --frozen ruff format --check"
step "python: mypy --strict" bash -c "cd '$ROOT/workers/grader-py' && uv run --frozen mypy"

for pkg in packages/contracts packages/db apps/api apps/web-demo; do
  name="${pkg//\//-}"
  step "bun test $pkg" bash -c "cd '$ROOT/$pkg' && bun test --timeout 60000 --reporter=junit --reporter-outfile='$REPORTS/$name.xml'"
done
step "pytest workers/grader-py" bash -c "cd '$ROOT/workers/grader-py' && uv run --frozen pytest -q --junitxml='$REPORTS/grader-py.xml'"

if [ ${#failed_steps[@]} -gt 0 ]; then printf 'FAILED STEP: %s\n' "${failed_steps[@]}"; fi
shopt -s nullglob
python3 "$ROOT/scripts/junit-summary.py" "$REPORTS"/*.xml
[ ${#failed_steps[@]} -eq 0 ]
