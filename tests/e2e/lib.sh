# Shared by the end-to-end scripts: a private nslabd, assertions, exact-name cleanup.
set -euo pipefail

NSLABD=$1
NSLAB=$2
SRC=$3
WORK=$(mktemp -d /tmp/nslab-e2e-XXXXXX)
export NSLAB_SOCKET=$WORK/nslabd.sock
DAEMON_PID=
LABS_MADE=()

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { grep -qF -- "$2" <<<"$1" || fail "$3: expected to find '$2' in: $1"; }

# Arguments go to nslabd after --socket and --state-dir.
start_daemon() {
  "$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" "$@" 2>>"$WORK/nslabd.log" &
  DAEMON_PID=$!
  for _ in $(seq 100); do
    [[ -S $NSLAB_SOCKET ]] && "$NSLAB" --socket "$NSLAB_SOCKET" ls >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$WORK/nslabd.log" >&2
  fail "nslabd did not start"
}

cleanup() {
  local status=$?
  for lab in "${LABS_MADE[@]}"; do "$NSLAB" down "$lab" >/dev/null 2>&1 || true; done
  if [[ -n $DAEMON_PID ]]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" || true; fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

# The host's links, and the namespaces whose names start with $1 (this test's lab):
# other tests run in parallel and make their own.
netns_and_links() {
  { ls /run/netns 2>/dev/null | grep "^$1" || true; ip -o link show | awk -F': ' '{print $2}'; } | sort
}
