#!/usr/bin/env bash
# Runs every test file under test/ with node's test runner, one file at a time (tests share Docker and ports),
# each under a wall-clock limit so a hang fails that file by name instead of stalling the whole run.
# Usage: run-tests.sh [FILE...]   MLAGENT_TEST_FILE_TIMEOUT=seconds per file (default 1200)
set -uo pipefail
cd "$(dirname "$0")/.."
limit="${MLAGENT_TEST_FILE_TIMEOUT:-1200}"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
[ ${#files[@]} -gt 0 ] || { echo "no test files found under test/" >&2; exit 1; }

passed=0 failed=0 skipped=0 failed_files=()
log=$(mktemp)
tmp=
trap 'rm -f "$log"; [ -z "$tmp" ] || rm -rf "$tmp"' EXIT
for f in "${files[@]}"; do
  echo "=== $f"
  start=$(date +%s)
  # each file gets its own TMPDIR, removed after it: tests' temp homes (checkpoints of 0.5 GB) never pile up
  tmp=$(mktemp -d -t mlagent-test-XXXXXX)
  TMPDIR="$tmp" timeout --kill-after=15 "$limit" node --import tsx --test --test-reporter=spec "$f" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  rm -rf "$tmp"
  # The spec reporter closes with "ℹ pass N" / "ℹ fail N" / "ℹ skipped N".
  count() { grep -aE "^ℹ $1 [0-9]+$" "$log" | tail -1 | awk '{print $3}'; }
  p=$(count pass); x=$(count fail); s=$(count skipped)
  passed=$((passed + ${p:-0})); failed=$((failed + ${x:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "!!! $f did not finish within $limit s (hung?): counted as one failed test"
    failed=$((failed + 1)); failed_files+=("$f (timeout)")
  elif [ "$rc" != 0 ]; then
    [ "${x:-0}" -gt 0 ] || failed=$((failed + 1))
    failed_files+=("$f")
  fi
  echo "=== $f: exit $rc in $(( $(date +%s) - start )) s"
done

[ ${#failed_files[@]} -eq 0 ] || printf 'failed: %s\n' "${failed_files[@]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ ${#failed_files[@]} -eq 0 ]
