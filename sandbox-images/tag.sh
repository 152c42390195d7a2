#!/usr/bin/env bash
# Prints the sandbox image tag: first 12 hex of sha256 over the recipe (packages.txt, then build.sh).
# sandbox-images/image-tag.ts computes the same value; keep the two in step.
set -euo pipefail
cd "$(dirname "$0")"
cat packages.txt build.sh | sha256sum | cut -c1-12
