#!/bin/sh
# Regenerates a tc request fixture: runs `tc qdisc add dev v0 <ARGS>` in a scratch namespace
# under strace and keeps the hex dump of the netlink request it sends. The request is sent,
# and so captured, even on a kernel without the qdisc (which then answers ENOENT).
# Needs root, iproute2 and strace. Usage (as root):
#   capture_tc.sh OUT.hex root netem delay 100ms 10ms 25% distribution normal ...
set -eu
out=$1
shift
ns="nslab-capture-$$"
trace=$(mktemp)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -f "$trace"' EXIT
ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set v0 up
ip netns exec "$ns" strace -f -e trace=sendmsg -e write=3 -o "$trace" tc qdisc add dev v0 "$@" ||
  true
{
  echo "# tc qdisc add dev v0 $*"
  echo "# $(tc -V)"
  echo "# captured by tests/unit/impair_kernel/testdata/capture_tc.sh (strace -e write=3)"
  grep -E '^ [|] [0-9a-f]{5}  ' "$trace"
} >"$out"
