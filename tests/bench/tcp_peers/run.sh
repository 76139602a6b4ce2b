#!/usr/bin/env bash
# TCP peers benchmark: a kernel client against three servers, side by side in one run —
#   ustack  nslab-ustack (our userspace TCP) on a TAP, services tcp:9:discard, tcp:7:echo
#   lwip    lwip_tap_sink (Debian's liblwip, as packaged) on a TAP, discard 9, echo 7
#   kernel  the kernel over a veth pair (probe.py serve)
# Bulk goodput: one connection sends for --seconds to discard, then waits for the server's
# close (everything acknowledged); median of --repeat runs; the server process's CPU
# (utime+stime) over the runs for the two userspace peers. Latency: 1-byte request/response
# on one connection to echo, p50/p99. Prints ratios to lwIP and to the kernel.
#
#   sudo tests/bench/tcp_peers/run.sh [--build DIR] [--seconds S] [--repeat K] [--rr N]
#
# Every namespace is named with this script's PID and deleted by that name at the end; the
# servers are stopped by their PIDs. Traffic stays inside those namespaces.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BUILD=$REPO/build/release
SECONDS_PER_RUN=3
REPEAT=3
RR_COUNT=5000
PROBE=$HERE/probe.py

while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --rr) RR_COUNT=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
USTACK=$BUILD/daemon/ustack/nslab-ustack
LWIP=$BUILD/tests/bench/tcp_peers/lwip_tap_sink
((EUID == 0)) || { echo "run.sh: needs root (namespaces, TAPs, veth)" >&2; exit 2; }
[[ -x $USTACK ]] || { echo "run.sh: no $USTACK (build nslab-ustack)" >&2; exit 2; }
[[ -x $LWIP ]] || { echo "run.sh: no $LWIP (install liblwip-dev, build lwip_tap_sink)" >&2; exit 2; }

NS_U=nslab-tcpb-$$-u NS_L=nslab-tcpb-$$-l NS_KC=nslab-tcpb-$$-kc NS_KS=nslab-tcpb-$$-ks
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$NS_U" "$NS_L" "$NS_KC" "$NS_KS"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT

for ns in "$NS_U" "$NS_L" "$NS_KC" "$NS_KS"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done

wait_for_link() {  # ns ifname
  for _ in $(seq 100); do
    ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "run.sh: $2 never appeared in $1" >&2
  return 1
}
kernel_side() {  # ns ifname address/len
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$1" link set "$2" up
}

# ustack: the TAP is the kernel's interface in NS_U; the stack answers at .2 behind it.
ip netns exec "$NS_U" "$USTACK" --tap tu0 --addr 10.94.0.2/24 \
  --service tcp:9:discard --service tcp:7:echo >/dev/null 2>&1 &
PIDS+=($!)
USTACK_PID=$!
wait_for_link "$NS_U" tu0
kernel_side "$NS_U" tu0 10.94.0.1/24

ip netns exec "$NS_L" "$LWIP" --tap tl0 --addr 10.95.0.2 --prefix 24 >/dev/null 2>&1 &
PIDS+=($!)
LWIP_PID=$!
wait_for_link "$NS_L" tl0
kernel_side "$NS_L" tl0 10.95.0.1/24

ip link add kc0 netns "$NS_KC" type veth peer name ks0 netns "$NS_KS"
kernel_side "$NS_KC" kc0 10.96.0.1/24
kernel_side "$NS_KS" ks0 10.96.0.2/24
ip netns exec "$NS_KS" python3 "$PROBE" serve 10.96.0.2 &
PIDS+=($!)

declare -A NS=([ustack]=$NS_U [lwip]=$NS_L [kernel]=$NS_KC)
declare -A HOST=([ustack]=10.94.0.2 [lwip]=10.95.0.2 [kernel]=10.96.0.2)
declare -A SERVER_PID=([ustack]=$USTACK_PID [lwip]=$LWIP_PID)
PEERS=(ustack lwip kernel)

# Ready when echo answers (ARP resolved, listener up).
for peer in "${PEERS[@]}"; do
  for _ in $(seq 50); do
    ip netns exec "${NS[$peer]}" python3 "$PROBE" rr "${HOST[$peer]}" 7 1 >/dev/null 2>&1 && break
    sleep 0.1
  done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A GOODPUT CPU P50 P99
HZ=$(getconf CLK_TCK)
for peer in "${PEERS[@]}"; do
  runs=()
  before=0 total_s=0
  [[ -n ${SERVER_PID[$peer]:-} ]] && before=$(cpu_ticks "${SERVER_PID[$peer]}")
  for _ in $(seq "$REPEAT"); do
    read -r bytes secs < <(ip netns exec "${NS[$peer]}" python3 "$PROBE" bulk \
      "${HOST[$peer]}" 9 "$SECONDS_PER_RUN")
    runs+=("$(awk -v b="$bytes" -v s="$secs" 'BEGIN {printf "%.1f", b * 8 / s / 1e6}')")
    total_s=$(awk -v a="$total_s" -v s="$secs" 'BEGIN {print a + s}')
  done
  GOODPUT[$peer]=$(median "${runs[@]}")
  if [[ -n ${SERVER_PID[$peer]:-} ]]; then
    after=$(cpu_ticks "${SERVER_PID[$peer]}")
    CPU[$peer]=$(awk -v t=$((after - before)) -v hz="$HZ" -v s="$total_s" \
      'BEGIN {printf "%.0f%%", 100 * t / hz / s}')
  else
    CPU[$peer]="(softirq)"
  fi
  read -r P50[$peer] P99[$peer] < <(ip netns exec "${NS[$peer]}" python3 "$PROBE" rr \
    "${HOST[$peer]}" 7 "$RR_COUNT")
done

echo "TCP peers of a kernel client: bulk goodput (${SECONDS_PER_RUN} s to discard, median of"
echo "$REPEAT, until the server's close) and 1-byte request/response on one connection ($RR_COUNT)."
printf '%-8s %14s %10s %12s %12s %10s %10s\n' peer "goodput Mb/s" "server CPU" "vs lwip" \
  "vs kernel" "rr p50 us" "rr p99 us"
for peer in "${PEERS[@]}"; do
  printf '%-8s %14s %10s %12s %12s %10s %10s\n' "$peer" "${GOODPUT[$peer]}" "${CPU[$peer]}" \
    "$(awk -v a="${GOODPUT[$peer]}" -v b="${GOODPUT[lwip]}" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v a="${GOODPUT[$peer]}" -v b="${GOODPUT[kernel]}" 'BEGIN {printf "%.3f", a / b}')" \
    "${P50[$peer]}" "${P99[$peer]}"
done
