#!/usr/bin/env bash
# Diagnostics benchmark: how long `nslab diag snapshot` takes on a 50-node lab, and how
# many packets/s `nslab capture` streams without loss next to tcpdump writing the same
# traffic to a file — printed side by side with the ratio. It reports; it asserts only
# that both captures saw the traffic (no speed assertion).
#
#   sudo tests/bench/diag/run.sh [--nslabd PATH] [--nslab PATH] [--nodes 50]
#                                [--packets 200000] [--repeat 3]
#
# Runs against a private nslabd (temp socket and state dir) started and stopped here by
# its PID; the labs it builds are deleted by name at the end. Needs root, tcpdump and
# capinfos (wireshark-common).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
NSLABD=$REPO/build-diag/daemon/nslabd
NSLAB=$REPO/build-diag/client/nslab
NODES=50
PACKETS=200000
REPEAT=3

while (($#)); do
  case $1 in
    --nslabd) NSLABD=$2; shift 2 ;;
    --nslab) NSLAB=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --packets) PACKETS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d /tmp/nslab-bench-diag.XXXXXX)
DAEMON_PID=
STAR=dbs$$
PAIR=dbp$$
export NSLAB_SOCKET=$WORK/nslabd.sock

cleanup() {
  "$NSLAB" down "$STAR" >/dev/null 2>&1 || true
  "$NSLAB" down "$PAIR" >/dev/null 2>&1 || true
  if [[ -n $DAEMON_PID ]]; then
    kill "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

now_us() { echo $((${EPOCHREALTIME/./})); }

"$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" >"$WORK/nslabd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [[ -S $NSLAB_SOCKET ]] && break; sleep 0.05; done

# ---------------------------------------------------------------- snapshot, N nodes
# A star: one switch and N-1 hosts, so the lab has N nodes.
{
  echo "name: $STAR"
  echo "nodes:"
  echo "  sw: {kind: switch}"
  for i in $(seq 1 $((NODES - 1))); do echo "  h$i: {kind: host}"; done
  echo "links:"
  for i in $(seq 1 $((NODES - 1))); do
    echo "  - {a: h$i:eth0, b: sw:p$i, a_addr: 10.77.$((i / 250)).$((i % 250 + 1))/16}"
  done
} >"$WORK/star.yaml"
t0=$(now_us)
"$NSLAB" up -t "$WORK/star.yaml" >/dev/null
echo "lab of $NODES nodes built in $((($(now_us) - t0) / 1000)) ms"
best=
for r in $(seq "$REPEAT"); do
  t0=$(now_us)
  "$NSLAB" diag snapshot "$STAR" -o json >"$WORK/snap.json"
  t=$((($(now_us) - t0) / 1000))
  server=$(python3 -c "import json;print(int(json.load(open('$WORK/snap.json'))['duration_us'])//1000)")
  echo "snapshot $r: ${t} ms end to end (daemon: ${server} ms, $(stat -c %s "$WORK/snap.json") bytes of JSON)"
  [[ -z $best || $t -lt $best ]] && best=$t
done
echo "SNAPSHOT ${NODES} nodes: best ${best} ms"
"$NSLAB" down "$STAR" >/dev/null

# ---------------------------------------------------------------- capture throughput
cat >"$WORK/pair.yaml" <<YAML
name: $PAIR
nodes: {tx: {}, rx: {}}
links: [{a: tx:eth0, b: rx:eth0, a_addr: 10.78.0.1/24, b_addr: 10.78.0.2/24}]
YAML
"$NSLAB" up -t "$WORK/pair.yaml" >/dev/null
# A burst of small UDP datagrams as fast as one python process sends them.
BLAST="import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
d=b'x'*64; a=('10.78.0.2',9)
t=time.time()
for _ in range($PACKETS): s.sendto(d,a)
print('%.0f' % ($PACKETS/(time.time()-t)))"

count() { capinfos -c -M "$1" 2>/dev/null | awk '/Number of packets/ {print $NF}'; }

run_nslab() {
  "$NSLAB" capture "$PAIR" rx eth0 -f "udp port 9" -c "$PACKETS" --duration 30s \
    -w "$WORK/nslab.pcap" 2>"$WORK/cap.err" &
  local pid=$!
  for _ in $(seq 200); do grep -q "capturing on" "$WORK/cap.err" 2>/dev/null && break; sleep 0.02; done
  local t0 sent
  t0=$(now_us)
  sent=$("$NSLAB" exec "$PAIR" tx -- python3 -c "$BLAST")
  # Stops at -c; if packets were lost it runs until --duration: stop it after 5 s.
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" || true
  local got; got=$(count "$WORK/nslab.pcap")
  echo "$got $sent $(($(now_us) - t0))"
}

run_tcpdump() {
  ip netns exec "$PAIR-rx" tcpdump -i eth0 -n -w "$WORK/tcpdump.pcap" -c "$PACKETS" \
    "udp port 9" 2>"$WORK/td.err" &
  local pid=$!
  for _ in $(seq 200); do grep -q "listening on" "$WORK/td.err" 2>/dev/null && break; sleep 0.02; done
  local t0 sent
  t0=$(now_us)
  sent=$("$NSLAB" exec "$PAIR" tx -- python3 -c "$BLAST")
  # tcpdump stops at -c; if it lost packets it would wait forever: give it 5 s.
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local got; got=$(count "$WORK/tcpdump.pcap")
  echo "$got $sent $(($(now_us) - t0))"
}

for r in $(seq "$REPEAT"); do
  read -r n_got n_rate n_us < <(run_nslab)
  read -r t_got t_rate t_us < <(run_tcpdump)
  echo "capture $r: nslab ${n_got}/${PACKETS} packets (sender at ${n_rate} pkt/s) |" \
       "tcpdump ${t_got}/${PACKETS} packets (sender at ${t_rate} pkt/s)"
  # Packets/s captured = packets in the file per second of sending, and the share kept.
  python3 - "$n_got" "$n_rate" "$t_got" "$t_rate" "$PACKETS" <<'PY'
import sys
n_got, n_rate, t_got, t_rate, total = map(int, sys.argv[1:])
n = n_rate * n_got / total
t = t_rate * t_got / total
print(f"  nslab {n:,.0f} pkt/s kept ({100*n_got/total:.1f}%), tcpdump {t:,.0f} pkt/s kept "
      f"({100*t_got/total:.1f}%), ratio nslab/tcpdump {n/t:.2f}")
PY
  [[ $n_got -gt 0 && $t_got -gt 0 ]] || { echo "run.sh: a capture saw nothing" >&2; exit 1; }
done
