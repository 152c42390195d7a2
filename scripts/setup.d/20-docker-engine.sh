#!/usr/bin/env bash
# Starts dockerd when no engine answers (DOCKER_HOST may point at a remote one), then waits for it.
set -euo pipefail
if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then exit 0; fi
if [ -n "${DOCKER_HOST:-}" ]; then echo "DOCKER_HOST=$DOCKER_HOST does not answer" >&2; exit 1; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
log="${MLAGENT_HOME:-.mlagent}/dockerd.log"
echo "starting dockerd (log: $log)"
$SUDO nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not answer within 60 s; see $log" >&2
tail -20 "$log" >&2
exit 1
