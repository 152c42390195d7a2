#!/usr/bin/env bash
# Prepares every task's public/hidden data under $MLAGENT_HOME/tasks (cached by prepare hash: a re-run is a no-op).
set -euo pipefail
npx mlagent tasks prepare
