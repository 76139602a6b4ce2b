#!/usr/bin/env bash
# TCP peers benchmark: a kernel client against three servers, side by side in one run —
#   ustack  nslab-ustack (our userspace TCP) on a TAP, services tcp:9:discard, tcp:7:echo
#   ustack+tso  the same with the NIC's checksum and TCP segmentation offloads on (--tso)
#   lwip    lwip_tap_sink (Debian's liblwip, as packaged) on a TAP, discard 9, echo 7
#   kernel  the kernel over a veth pair (probe.py serve)
# Bulk goodput: one connection sends for --seconds to discard, then waits for the server's
# close (everything acknowledged); median of --repeat runs; the server process's CPU
# (utime+stime) over the runs for the two userspace peers. Latency: 1-byte request/response
# on one connection to echo, p50/p99. Prints ratios to lwIP and to the kernel.
# Then the send direction: each peer's source (the ustack's `source` client, lwip_tap_sink
# --source, probe.py source on the kernel) into a kernel sink (probe.py sink) for --seconds,
# measured at the sink from its first byte; a fresh source process per run.
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
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
USTACK=$BUILD/daemon/ustack/nslab-ustack
LWIP=$BUILD/tests/bench/tcp_peers/lwip_tap_sink
((EUID == 0)) || { echo "run.sh: needs root (namespaces, TAPs, veth)" >&2; exit 2; }
[[ -x $USTACK ]] || { echo "run.sh: no $USTACK (build nslab-ustack)" >&2; exit 2; }
[[ -x $LWIP ]] || { echo "run.sh: no $LWIP (install liblwip-dev, build lwip_tap_sink)" >&2; exit 2; }

NS_U=nslab-tcpb-$$-u NS_T=nslab-tcpb-$$-t NS_L=nslab-tcpb-$$-l NS_KC=nslab-tcpb-$$-kc
NS_KS=nslab-tcpb-$$-ks
OFFLOADS=(--csum-offload --tso)
PIDS=()
RUN_PIDS=()  # the send direction's source and sink of the run in progress
cleanup() {
  for pid in "${RUN_PIDS[@]}" "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${RUN_PIDS[@]}" "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$NS_U" "$NS_T" "$NS_L" "$NS_KC" "$NS_KS"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT

for ns in "$NS_U" "$NS_T" "$NS_L" "$NS_KC" "$NS_KS"; do
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

ip netns exec "$NS_T" "$USTACK" --tap tt0 --addr 10.93.0.2/24 "${OFFLOADS[@]}" \
  --service tcp:9:discard --service tcp:7:echo >/dev/null 2>&1 &
PIDS+=($!)
USTACK_TSO_PID=$!
wait_for_link "$NS_T" tt0
kernel_side "$NS_T" tt0 10.93.0.1/24

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

declare -A NS=([ustack]=$NS_U [ustack+tso]=$NS_T [lwip]=$NS_L [kernel]=$NS_KC)
declare -A HOST=([ustack]=10.94.0.2 [ustack+tso]=10.93.0.2 [lwip]=10.95.0.2 [kernel]=10.96.0.2)
declare -A SERVER_PID=([ustack]=$USTACK_PID [ustack+tso]=$USTACK_TSO_PID [lwip]=$LWIP_PID)
PEERS=(ustack ustack+tso lwip kernel)

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
printf '%-11s %14s %10s %12s %12s %10s %10s\n' peer "goodput Mb/s" "server CPU" "vs lwip" \
  "vs kernel" "rr p50 us" "rr p99 us"
for peer in "${PEERS[@]}"; do
  printf '%-11s %14s %10s %12s %12s %10s %10s\n' "$peer" "${GOODPUT[$peer]}" "${CPU[$peer]}" \
    "$(awk -v a="${GOODPUT[$peer]}" -v b="${GOODPUT[lwip]}" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v a="${GOODPUT[$peer]}" -v b="${GOODPUT[kernel]}" 'BEGIN {printf "%.3f", a / b}')" \
    "${P50[$peer]}" "${P99[$peer]}"
done

# Send direction. The sources' TAPs are made persistent here, so that the kernel's side has its
# address (and the sink listens) before the source starts and connects.
ip -n "$NS_U" tuntap add dev tu1 mode tap
kernel_side "$NS_U" tu1 10.97.0.1/24
ip -n "$NS_T" tuntap add dev tt1 mode tap
kernel_side "$NS_T" tt1 10.92.0.1/24
ip -n "$NS_L" tuntap add dev tl1 mode tap
kernel_side "$NS_L" tl1 10.98.0.1/24
declare -A SINK_NS=([ustack]=$NS_U [ustack+tso]=$NS_T [lwip]=$NS_L [kernel]=$NS_KC)
declare -A SINK_ADDR=([ustack]=10.97.0.1 [ustack+tso]=10.92.0.1 [lwip]=10.98.0.1
  [kernel]=10.96.0.1)
start_source() {  # peer; sets SOURCE_PID
  case $1 in
    ustack) ip netns exec "$NS_U" "$USTACK" --tap tu1 --addr 10.97.0.2/24 \
              --service tcp:10.97.0.1:5001:source >/dev/null 2>&1 & ;;
    ustack+tso) ip netns exec "$NS_T" "$USTACK" --tap tt1 --addr 10.92.0.2/24 "${OFFLOADS[@]}" \
                  --service tcp:10.92.0.1:5001:source >/dev/null 2>&1 & ;;
    lwip) ip netns exec "$NS_L" "$LWIP" --tap tl1 --addr 10.98.0.2 --prefix 24 \
            --source 10.98.0.1:5001 >/dev/null 2>&1 & ;;
    kernel) ip netns exec "$NS_KS" python3 "$PROBE" source 10.96.0.1 5001 & ;;
  esac
  SOURCE_PID=$!
}
declare -A SEND_GOODPUT SEND_CPU
for peer in "${PEERS[@]}"; do
  runs=() ticks=0 total_s=0
  for _ in $(seq "$REPEAT"); do
    out=$(mktemp)
    ip netns exec "${SINK_NS[$peer]}" python3 "$PROBE" sink "${SINK_ADDR[$peer]}" 5001 \
      "$SECONDS_PER_RUN" >"$out" &
    sink_pid=$!
    sleep 0.3  # listening
    start_source "$peer"
    RUN_PIDS=("$sink_pid" "$SOURCE_PID")
    wait "$sink_pid"
    # The source stops at the sink's shutdown; its CPU over its whole life (idle but for the run).
    [[ $peer != kernel ]] && ticks=$((ticks + $(cpu_ticks "$SOURCE_PID")))
    kill "$SOURCE_PID" 2>/dev/null || true
    wait "$SOURCE_PID" 2>/dev/null || true
    RUN_PIDS=()
    read -r bytes secs <"$out"
    rm -f "$out"
    runs+=("$(awk -v b="$bytes" -v s="$secs" 'BEGIN {printf "%.1f", b * 8 / s / 1e6}')")
    total_s=$(awk -v a="$total_s" -v s="$secs" 'BEGIN {print a + s}')
  done
  SEND_GOODPUT[$peer]=$(median "${runs[@]}")
  if [[ $peer != kernel ]]; then
    SEND_CPU[$peer]=$(awk -v t="$ticks" -v hz="$HZ" -v s="$total_s" \
      'BEGIN {printf "%.0f%%", 100 * t / hz / s}')
  else
    SEND_CPU[$peer]="(python)"
  fi
done

echo
echo "Send direction: each peer's source into a kernel sink (${SECONDS_PER_RUN} s from the first"
echo "byte, median of $REPEAT)."
printf '%-11s %14s %10s %12s %12s\n' peer "goodput Mb/s" "source CPU" "vs lwip" "vs kernel"
for peer in "${PEERS[@]}"; do
  printf '%-11s %14s %10s %12s %12s\n' "$peer" "${SEND_GOODPUT[$peer]}" "${SEND_CPU[$peer]}" \
    "$(awk -v a="${SEND_GOODPUT[$peer]}" -v b="${SEND_GOODPUT[lwip]}" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v a="${SEND_GOODPUT[$peer]}" -v b="${SEND_GOODPUT[kernel]}" 'BEGIN {printf "%.3f", a / b}')"
done
