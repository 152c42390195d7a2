#!/usr/bin/env bash
# The newest PyTorch from PyPI with the transformers that reads GGUF, for `mlagent bench model`'s training
# reference (model/reference/sft_bench.py), in a cached venv .mlagent/torch-venv. PyPI's Linux torch wheels are
# CUDA builds that import only with their nvidia-* wheels, even on a CPU (about 5.6 GB in all), so this venv is
# made on demand, not by make setup. Debian's torch 1.13 (.mlagent/ref-venv, record-golden.sh) is measured beside it.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.mlagent/torch-venv
pins="torch==2.15.0 transformers==5.24.0 accelerate==1.15.0 gguf==0.19.0"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q $pins
  echo "$pins" > "$venv/.pins"
fi
"$venv/bin/python" -c 'import torch, transformers; print(f"torch {torch.__version__}, transformers {transformers.__version__}")'
