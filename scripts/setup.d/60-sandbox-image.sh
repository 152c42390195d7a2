#!/usr/bin/env bash
# Builds the sandbox image (sandbox-images/build.sh) when the engine lacks the tag of the current recipe.
set -euo pipefail
image="mlagent-sandbox:$(bash sandbox-images/tag.sh)"
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
echo "building $image (debootstrap; takes a few minutes)"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo --preserve-env=MLAGENT_HOME,DEBIAN_MIRROR,DOCKER_HOST"
$SUDO bash sandbox-images/build.sh
