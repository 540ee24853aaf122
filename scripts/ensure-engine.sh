#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine and the project's test image exists.
# Installs Debian's docker.io (and the helpers the tests use) when the engine is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${OPSPEC_TEST_IMAGE:-opspec-test/busybox:1}
LOG=${OPSPEC_DOCKERD_LOG:-/tmp/opspec-dockerd.log}

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker >/dev/null 2>&1 || need_pkgs+=(docker.io)
# The test image copies /bin/busybox onto an empty base, so it must be the static build.
{ ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic' || need_pkgs+=(busybox-static)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_pkgs+=(apache2-utils)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: missing ${need_pkgs[*]}; install them (as root: apt-get install -y ${need_pkgs[*]})" >&2
    exit 1
  fi
  echo "ensure-engine: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! engine_up; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    echo "ensure-engine: DOCKER_HOST=$DOCKER_HOST does not answer" >&2; exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: no Docker engine answers and only root can start dockerd here" >&2; exit 1
  fi
  echo "ensure-engine: starting dockerd (log: $LOG)" >&2
  nohup dockerd >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_up && break
    sleep 0.5
  done
  if ! engine_up; then
    echo "ensure-engine: dockerd did not come up within 60 s; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "ensure-engine: building $IMAGE" >&2
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/tmp" "$ctx/rootfs/etc"
  cp /bin/busybox "$ctx/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$ctx/rootfs/bin/$applet"
  done
  chmod 1777 "$ctx/rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/rootfs/etc/group"
  cp images/busybox/Dockerfile "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$ctx" >/dev/null 2>&1 || {
    echo "ensure-engine: building $IMAGE failed" >&2; exit 1; }
fi
