#!/usr/bin/env bash
# TensorBoard (PyPI, pinned) in the project venv: `.venv/bin/tensorboard --logdir $MLAGENT_HOME/tensorboard` shows
# the SFT/PPO scalars the model worker writes, and the tests read those event files back with its own reader.
set -euo pipefail
TENSORBOARD_VERSION=2.21.0
if ! .venv/bin/pip show tensorboard 2>/dev/null | grep -q "^Version: $TENSORBOARD_VERSION$"; then
  [ -x .venv/bin/pip ] || /usr/bin/python3 -m venv .venv
  .venv/bin/pip install -q "tensorboard==$TENSORBOARD_VERSION"
fi
