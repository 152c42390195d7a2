#!/usr/bin/env bash
# Records test/model/golden/lora-peft.json: our LoRA fixture (model/reference/lora-fixture.ts: tiny Llama + PEFT
# adapter files) loaded by transformers + peft in the reference venv .mlagent/ref-venv (record-golden.sh builds it
# over Debian's torch 1.13; peft 0.13.2 is added here, the last release that declares torch 1.13 support).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.mlagent/ref-venv
[ -x "$venv/bin/python" ] || { echo "no $venv: run model/reference/record-golden.sh first" >&2; exit 1; }
"$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("peft") != "0.13.2")' 2>/dev/null || "$venv/bin/pip" install -q peft==0.13.2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
npx tsx model/reference/lora-fixture.ts "$dir"
mkdir -p test/model/golden
HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 "$venv/bin/python" model/reference/record_lora_golden.py "$dir" test/model/golden/lora-peft.json
