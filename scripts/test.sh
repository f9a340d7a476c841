#!/usr/bin/env bash
# Runs every check and every test: generated-code drift, typecheck, lint, TypeScript tests (bun test,
# per package) and Python tests (pytest), against real PostgreSQL and Redis. Ends with one line
# "N passed, N failed" counting every test of every runner. Exit status is non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
install_dependencies
ensure_chromium
ensure_nginx
ensure_services

failed_steps=()
step() { # step NAME COMMAND...: run a check, remember a failure, keep going so the summary is complete
  local name=$1; shift
  log "$name"
  if ! "$@"; then failed_steps+=("$name"); fi
}

cd "$ROOT"
# Each package's `test` script writes its JUnit report to <package>/.reports/junit.xml; turbo restores
# it from its cache when nothing the tests read has changed. Stale reports are removed first.
rm -rf apps/*/.reports packages/*/.reports workers/*/.reports
# turbo owns the tasks (see turbo.json): `check` (generated code matches its source), `typecheck`
# (tsc; mypy --strict for the worker), `lint` (Biome; ruff) and `test` (bun test per package, pytest).
step "checks: generated-code drift, typecheck, lint" bun x turbo run check typecheck lint --continue --output-logs=errors-only
# One test suite at a time: the suites start real processes and the machine may have 2 cores.
step "tests: every package" bun x turbo run test --continue --concurrency=1 --output-logs=new-only

if [ ${#failed_steps[@]} -gt 0 ]; then printf 'FAILED STEP: %s\n' "${failed_steps[@]}"; fi
shopt -s nullglob
reports=(apps/*/.reports/*.xml packages/*/.reports/*.xml workers/*/.reports/*.xml)
suites=$(grep -l '"test":' apps/*/package.json packages/*/package.json workers/*/package.json | wc -l)
if [ ${#reports[@]} -lt "$suites" ]; then echo "expected a test report from each of the $suites test suites, found ${#reports[@]}" >&2; failed_steps+=("reports"); fi
python3 "$ROOT/scripts/junit-summary.py" "${reports[@]}"
[ ${#failed_steps[@]} -eq 0 ]
