#!/usr/bin/env bash
# Runs every test file under test/ with node's test runner (one file at a time: tests share Docker and ports).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find test -name '*.test.ts' | sort)
[ ${#files[@]} -gt 0 ] || { echo "no test files found under test/" >&2; exit 1; }
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
