#!/usr/bin/env bash
# Node dependencies. Install scripts are off: tfjs-node's would download libtensorflow (no network here);
# 50-tfjs.sh links it against the TensorFlow wheel instead. Re-run only when the lock file changes.
set -euo pipefail
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" > "$stamp"
fi
