#!/usr/bin/env bash
# Installs every dependency, builds, and runs every test: the sanitizer (ASan+UBSan) tree
# with the unit tests and bounded fuzzing first, then the full tree with unit,
# integration (root, real namespaces), end-to-end, interop, format and benchmark smoke
# tests. The last lines printed are ctest's summary of the full tree.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: run as root: the integration tests build real namespaces" >&2
  exit 1
fi
bash scripts/setup.sh

jobs=${NSLAB_JOBS:-2}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Paths relative to the checkout in ccache's keys: the image's builder stage (tests/container)
# compiles the same sources under /src and hits what this tree's Release build stored. ccache
# also keys on the locale (the compiler's messages depend on it): one locale here and there.
export CCACHE_BASEDIR=$PWD
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_MESSAGES

echo "== sanitizer build (clang, ASan+UBSan): unit tests and fuzz targets"
cmake -S . -B build/sanitize -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DNSLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/sanitize -j"$jobs"
(cd build/sanitize && ctest --output-on-failure -j"$jobs")

echo "== full build: every test"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$jobs"
cd build/release
exec ctest --output-on-failure -j"$jobs"
