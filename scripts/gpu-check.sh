#!/usr/bin/env bash
# GPU host check: the native tfjs backend (tfjs-node-gpu) sees the GPU, and one SFT step of the default model,
# timed. Exits non-zero, saying that no GPU was found, on a host where TensorFlow sees none (CPU-only hosts).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "gpu-check: nvidia-smi not found (no NVIDIA driver on this host)"
exec node --import tsx model/gpu-check.ts
