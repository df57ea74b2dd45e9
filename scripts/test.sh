#!/usr/bin/env bash
# make test: every test layer, stopping at the first failing one.
#   1. C unit tests (cmocka), built with AddressSanitizer + UBSan
#   2. libFuzzer targets, a bounded run (FUZZ_SECONDS, default 30 s each)
#   3. client unit tests (vitest) and the production bundle
#   4. the Docker tools (scripts/docker/tools.sh), then pytest end to end against
#      real processes (gateways built with ASan+UBSan)
#      and the Docker layer: tests/test_docker_stack.py builds the images and runs the
#      compose stack (scripts/docker/up.sh) under its own project on 127.0.0.1 ports
# PYTEST_ARGS passes extra arguments to pytest (e.g. -k resume).
# A layer that cannot run fails (no silent skips): missing tools, a skipped
# test, no test collected, a fuzz target without seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

step() { printf '\n==== %s\n' "$*"; }

step "build (release and sanitizer builds)"
make -s programs
make -s SAN=1 programs

step "C unit tests (ASan + UBSan)"
make -s SAN=1 test-unit

step "fuzz (bounded)"
bash scripts/fuzz.sh short

step "client: vitest + build"
(cd client && npm test --silent && npm run -s build)

step "Docker tools (docker.io, dockerd, buildx and compose plugins; quick when present)"
# Here and not inside a test: the first install builds the plugins from the Go
# module proxy, minutes that no single test's timeout allows.
bash scripts/docker/tools.sh

step "end-to-end tests (pytest, real processes)"
# CI runs every layer against its own processes: a skipped test fails the run
# (tests/conftest.py), and attach mode would skip every process-control test.
if [ -n "${WB_TEST_BASE_URL:-}" ]; then
  echo "test.sh: WB_TEST_BASE_URL is set; make test starts its own stack (unset it; attach mode is for pytest by hand)" >&2
  exit 1
fi
unset WB_TEST_ALLOW_SKIPS
export WB_BUILD_DIR=$WB_ROOT/build/san
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# shellcheck disable=SC2086
# A hard bound for the whole suite, so a hung test fails CI instead of eating its time.
rc=0
timeout -k 60 "${PYTEST_TIMEOUT:-3600}" .venv/bin/python -m pytest tests ${PYTEST_ARGS:-} || rc=$?
case $rc in
  0) ;;
  5) echo "test.sh: pytest collected no tests (PYTEST_ARGS='${PYTEST_ARGS:-}'): a layer that does not run fails" >&2
     exit 1 ;;
  124 | 137) echo "test.sh: pytest did not finish within ${PYTEST_TIMEOUT:-3600} s" >&2; exit 1 ;;
  *) exit "$rc" ;;
esac
