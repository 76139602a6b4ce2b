#!/usr/bin/env bash
# The main job: installs everything, builds, starts nslabd, builds the demo lab, shows
# it, sends traffic across it, and tears it down leaving the host as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run as root: labs are real network namespaces" >&2
  exit 1
fi
bash scripts/setup.sh
jobs=${NSLAB_JOBS:-2}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$jobs" --target nslabd nslab

bin=build/release
work=$(mktemp -d /tmp/nslab-demo-XXXXXX)
export NSLAB_SOCKET=$work/nslabd.sock
lab=demo-$$
daemon=
cleanup() {
  "$bin/client/nslab" down "$lab" >/dev/null 2>&1 || true
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

"$bin/daemon/nslabd" --socket "$NSLAB_SOCKET" --state-dir "$work/state" 2>"$work/nslabd.log" &
daemon=$!
for _ in $(seq 100); do [[ -S $NSLAB_SOCKET ]] && break; sleep 0.1; done

nslab() { "$bin/client/nslab" "$@"; }
step nslab caps
step nslab up -t topologies/quickstart.yaml --name "$lab"
step nslab ls
step nslab show "$lab"
step nslab exec "$lab" client -- ping -c3 -i0.2 10.0.0.2
step nslab exec "$lab" server -- ip -s link show dev eth0
step nslab exec "$lab" client -- ip route get 10.0.0.2
step nslab down "$lab"
printf '\nnamespaces of the lab left behind: %s\n' \
  "$(ls /run/netns 2>/dev/null | grep -cx "$lab-.*" || true)"
echo "demo: done"
