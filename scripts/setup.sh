#!/usr/bin/env bash
# Idempotent machine set-up: runs every part in scripts/setup.d in order. Each part checks before it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export MLAGENT_HOME="${MLAGENT_HOME:-$PWD/.mlagent}"
mkdir -p "$MLAGENT_HOME"
for part in scripts/setup.d/*.sh; do
  echo "[setup] ${part##*/}"
  bash "$part"
done
echo "[setup] done"
