#!/usr/bin/env bash
# The public API's conventions and stability: `buf lint` (STANDARD rules, proto/buf.yaml) and
# `buf breaking` against proto/api-baseline.json, the API as released. buf comes from npm at
# the version pinned in tools/buf (scripts/setup.sh installs it).
#   scripts/check-api.sh lint|breaking
set -euo pipefail
cd "$(dirname "$0")/../proto"
buf=../tools/buf/node_modules/.bin/buf
if [[ ! -x $buf ]]; then
  echo "check-api: $buf is missing; run scripts/setup.sh" >&2
  exit 1
fi
case ${1:-} in
  lint) "$buf" lint ;;
  breaking) "$buf" breaking --against api-baseline.json ;;
  *)
    echo "usage: check-api.sh lint|breaking" >&2
    exit 2
    ;;
esac
echo "check-api: buf $1 passed"
