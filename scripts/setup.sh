#!/usr/bin/env bash
# Installs every Debian package that building, testing and running the demo need.
# Idempotent and non-interactive: safe to run on every CI job.
#   setup.sh           everything: build, test, demo, and the OCI engine for the image test
#   setup.sh --build   only what a Release build of nslabd, nslab and nslab-ustack and its
#                      unit tests need (docker/Dockerfile's builder stage)
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libnl-3-dev libnl-route-3-dev libnftables-dev libyaml-cpp-dev libpcap-dev
  libcli11-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  libnl-nf-3-dev liblwip-dev
)
test_packages=(
  clang clang-format-14 clang-format libclang-rt-14-dev
  iproute2 nftables iputils-ping netcat-openbsd procps kmod tcpdump tshark curl openssl passwd
  python3 python3-grpcio python3-protobuf python3-yaml
  # The image test: Debian's podman runs docker/Dockerfile (../shared/CONTAINERS.md), and
  # mmdebstrap makes the Debian base image where no registry is reachable.
  podman runc mmdebstrap uidmap
  # The netem tier (tests/netem): a Linux kernel with sch_netem that runs as a process.
  user-mode-linux
  # The HTTP benchmark (tests/bench/http): two load generators and the baseline server, run
  # with its own config in a namespace (the package's own service is not used).
  wrk apache2-utils nginx
)

packages=("${build_packages[@]}")
if [[ ${1:-} != --build ]]; then
  packages+=("${test_packages[@]}")
fi

# buf (the API checks) comes from npm; Debian's npm brings Node.js. A machine that already has
# a Node.js with npm (e.g. from NodeSource) keeps it: Debian's npm would conflict with it.
if [[ ${1:-} != --build ]] && ! command -v npm >/dev/null; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # nginx is a benchmark baseline run in a namespace with its own config; its package would
  # also start a host nginx listening on port 80. While installing, services may not start
  # (policy-rc.d, as Debian's container images do), unless the machine has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# nslab scripts/setup.sh: no service starts while it installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ $(trap -p EXIT) ]]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi

if [[ ${1:-} != --build ]]; then
  # The version pinned in tools/buf/package-lock.json, installed once per lock file.
  here=$(cd "$(dirname "$0")/.." && pwd)
  stamp=$here/tools/buf/node_modules/.installed-from-lock
  if ! cmp -s "$here/tools/buf/package-lock.json" "$stamp"; then
    npm ci --prefix "$here/tools/buf" --no-audit --no-fund --loglevel=error
    cp "$here/tools/buf/package-lock.json" "$stamp"
  fi
fi
