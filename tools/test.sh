#!/usr/bin/env bash
# The whole test suite: every test plain, every test under ASan+UBSan, the
# gRPC-free tests under TSan (tag `no_tsan` opts a test out), the fuzz
# corpora replayed (part of the plain run) and each fuzzer run for a bounded
# time. Runs every phase, then fails if any failed.
#
#   tools/test.sh                 all phases
#   FUZZ_SECONDS=60 tools/test.sh longer fuzzing
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
FUZZERS=(hypercall policy config frame capture path launch_log)
LOG_DIR="$(mktemp -d)"
passed=0
failed=0
failures=()

# Runs one bazel test phase and adds its per-target results to the totals.
phase() {
  local name="$1"
  shift
  echo "==> ${name}"
  local log="${LOG_DIR}/${name}.log"
  bazel test --build_tests_only --test_summary=short "$@" 2>&1 | tee "${log}" | grep -E '^(//|Executed|ERROR|FAIL)'
  local p f
  p=$(grep -cE '^//\S+\s+(\(cached\) )?PASSED' "${log}")
  f=$(grep -cE '^//\S+\s+.*(FAILED|TIMEOUT|NO STATUS|INCOMPLETE)' "${log}")
  if grep -q '^ERROR:' "${log}" && [[ "$f" -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  [[ "$f" -eq 0 ]] || failures+=("${name}")
}

phase plain //...
phase asan-ubsan --config=asan //...
phase tsan --config=tsan //...

echo "==> fuzz (${FUZZ_SECONDS}s each)"
if bazel build --config=fuzz $(printf '//tests/fuzz:%s_fuzzer ' "${FUZZERS[@]}") \
    > "${LOG_DIR}/fuzz-build.log" 2>&1; then
  for fuzzer in "${FUZZERS[@]}"; do
    work="$(mktemp -d)"
    cp -r "tests/fuzz/corpus/${fuzzer}/." "${work}/"
    if (cd "${LOG_DIR}" && "${OLDPWD}/bazel-bin/tests/fuzz/${fuzzer}_fuzzer" \
          "${work}" -max_total_time="${FUZZ_SECONDS}" -max_len=512 \
          > "${LOG_DIR}/fuzz-${fuzzer}.log" 2>&1); then
      echo "//tests/fuzz:${fuzzer}_fuzzer PASSED ($(grep -o 'Done [0-9]* runs' "${LOG_DIR}/fuzz-${fuzzer}.log"))"
      passed=$((passed + 1))
    else
      echo "//tests/fuzz:${fuzzer}_fuzzer FAILED; reproducer and log in ${LOG_DIR}"
      tail -30 "${LOG_DIR}/fuzz-${fuzzer}.log"
      failed=$((failed + 1))
      failures+=("fuzz-${fuzzer}")
    fi
    rm -rf "${work}"
  done
else
  tail -30 "${LOG_DIR}/fuzz-build.log"
  failed=$((failed + 1))
  failures+=("fuzz-build")
fi

echo
[[ ${#failures[@]} -eq 0 ]] || echo "failed phases: ${failures[*]} (logs in ${LOG_DIR})"
echo "argo: ${passed} passed, ${failed} failed"
[[ "${failed}" -eq 0 ]]
