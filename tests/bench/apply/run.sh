#!/usr/bin/env bash
# Apply benchmark: one host added to (and removed from) a running star lab by `nslab apply`,
# beside a full `nslab up` of the changed file and a hand-written baseline that adds the same
# host to the running lab with iproute2 (netns add, veth into the switch, address, up).
#
#   tests/bench/apply/run.sh [--nslabd PATH] [--nslab PATH] [--hosts N] [--repeat K]
#
# The lab is tests/bench/lab_build/gen.py's star: N hosts on one switch (N+1 nodes; default
# 199, a 200-node lab). Each repeat times: apply +1 host, a ping to it, apply -1 host; the
# baseline's add and delete; and (once) `up` of the N+1-host file in a fresh lab. Prints the
# medians and the ratios. Exits non-zero if an apply, a ping or a teardown fails: it asserts
# behaviour, not speed. Needs root. Runs its own nslabd (temp socket and state dir).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
NSLABD=$REPO/build/release/daemon/nslabd
NSLAB=$REPO/build/release/client/nslab
HOSTS=199
REPEAT=5

while (($#)); do
  case $1 in
    --nslabd) NSLABD=$2; shift 2 ;;
    --nslab) NSLAB=$2; shift 2 ;;
    --hosts) HOSTS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $HOSTS =~ ^[0-9]+$ && $HOSTS -ge 2 && $HOSTS -le 60000 ]] || { echo "--hosts: 2..60000" >&2; exit 2; }
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || { echo "--repeat: a positive integer" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root" >&2; exit 2; }

WORK=$(mktemp -d /tmp/nslab-bench-apply.XXXXXX)
export NSLAB_SOCKET=$WORK/nslabd.sock
LAB=na$$
FULL=nf$$
BASE_NS=nb$$-x
DAEMON_PID=
FAILURES=0

cleanup() {
  local status=$?
  [[ -e /run/netns/$BASE_NS ]] && ip netns del "$BASE_NS" 2>/dev/null
  if [[ -n $DAEMON_PID ]]; then
    "$NSLAB" down "$LAB" >/dev/null 2>&1 || true
    "$NSLAB" down "$FULL" >/dev/null 2>&1 || true
    kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

now_us() { echo $((${EPOCHREALTIME/./})); }
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
median() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f ms", us / 1000}'; }

setsid "$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" 2>>"$WORK/nslabd.log" &
DAEMON_PID=$!
for _ in $(seq 100); do
  [[ -S $NSLAB_SOCKET ]] && "$NSLAB" ls >/dev/null 2>&1 && break
  sleep 0.1
done

gen() { python3 "$REPO/tests/bench/lab_build/gen.py" --kind star --n "$1" --name "$2" --out "$WORK/$3" >/dev/null; }
gen "$HOSTS" "$LAB" small
gen $((HOSTS + 1)) "$LAB" big
gen $((HOSTS + 1)) "$FULL" full
NEW=h$((HOSTS + 1))
NEW_ADDR=$(python3 -c "i=$((HOSTS + 1)); print(f'10.10.{(i>>8)&255}.{i&255}')")
NODES=$((HOSTS + 1))

t0=$(now_us)
"$NSLAB" --timeout 600 up -t "$WORK/small/topology.yaml" --no-progress >/dev/null
t1=$(now_us)
UP_SMALL=$((t1 - t0))
echo "up of the $NODES-node lab: $(ms $UP_SMALL)"

declare -a ADD=() REMOVE=() DRY=() BASE_ADD=() BASE_DEL=()
for ((rep = 1; rep <= REPEAT; rep++)); do
  t0=$(now_us)
  "$NSLAB" apply "$LAB" -t "$WORK/big/topology.yaml" --dry-run >"$WORK/dry.out" || fail "apply --dry-run"
  t1=$(now_us)
  DRY+=($((t1 - t0)))
  grep -q "^+ node $NEW\$" "$WORK/dry.out" || fail "the plan does not add $NEW: $(cat "$WORK/dry.out")"
  t0=$(now_us)
  "$NSLAB" apply "$LAB" -t "$WORK/big/topology.yaml" >"$WORK/apply.out" || fail "apply +1: $(cat "$WORK/apply.out")"
  t1=$(now_us)
  ADD+=($((t1 - t0)))
  "$NSLAB" exec "$LAB" h1 -- ping -c1 -W2 "$NEW_ADDR" >/dev/null || fail "h1 cannot ping the added $NEW"
  t0=$(now_us)
  "$NSLAB" apply "$LAB" -t "$WORK/small/topology.yaml" >"$WORK/apply.out" || fail "apply -1: $(cat "$WORK/apply.out")"
  t1=$(now_us)
  REMOVE+=($((t1 - t0)))
  [[ ! -e /run/netns/$LAB-$NEW ]] || fail "apply -1 left netns $LAB-$NEW"

  # The baseline: the same host added to the running lab by hand, then deleted.
  t0=$(now_us)
  ip netns add "$BASE_NS"
  ip -n "$BASE_NS" link set lo up
  ip link add eth0 netns "$BASE_NS" type veth peer name pbase netns "$LAB-sw"
  ip -n "$LAB-sw" link set pbase master br0 up
  ip -n "$BASE_NS" addr add "$NEW_ADDR/16" dev eth0
  ip -n "$BASE_NS" link set eth0 up
  t1=$(now_us)
  BASE_ADD+=($((t1 - t0)))
  ip netns exec "$BASE_NS" ping -c1 -W2 10.10.0.1 >/dev/null || fail "the baseline host cannot ping h1"
  t0=$(now_us)
  ip netns del "$BASE_NS"
  t1=$(now_us)
  BASE_DEL+=($((t1 - t0)))
done
"$NSLAB" --timeout 600 down "$LAB" >/dev/null || fail "down"

t0=$(now_us)
"$NSLAB" --timeout 600 up -t "$WORK/full/topology.yaml" --no-progress >/dev/null || fail "up of the changed file"
t1=$(now_us)
UP_FULL=$((t1 - t0))
"$NSLAB" --timeout 600 down "$FULL" >/dev/null || fail "down $FULL"

add=$(median "${ADD[@]}")
remove=$(median "${REMOVE[@]}")
dry=$(median "${DRY[@]}")
base_add=$(median "${BASE_ADD[@]}")
base_del=$(median "${BASE_DEL[@]}")
per_node=$((UP_FULL / (NODES + 1)))
echo
echo "one host added to a running $NODES-node star (median of $REPEAT):"
printf '  %-44s %s\n' "nslab apply +1 host" "$(ms "$add")"
printf '  %-44s %s\n' "nslab apply -1 host" "$(ms "$remove")"
printf '  %-44s %s\n' "nslab apply --dry-run" "$(ms "$dry")"
printf '  %-44s %s\n' "baseline: ip (6 commands) +1 host" "$(ms "$base_add")"
printf '  %-44s %s\n' "baseline: ip netns del" "$(ms "$base_del")"
printf '  %-44s %s\n' "nslab up of the $((NODES + 1))-node file (full rebuild)" "$(ms "$UP_FULL")"
printf '  %-44s %s\n' "  of which one node's share (up / nodes)" "$(ms "$per_node")"
echo "ratios:"
awk -v a="$add" -v b="$base_add" -v f="$UP_FULL" -v p="$per_node" 'BEGIN {
  printf "  apply +1 / baseline +1        %.2fx\n", a / b
  printf "  apply +1 / one node of up     %.2fx\n", a / p
  printf "  apply +1 / full up            %.3fx (full up is %.0fx slower)\n", a / f, f / a }'
((FAILURES == 0)) || { echo "$FAILURES failures" >&2; exit 1; }
