#!/usr/bin/env bash
# Impairment benchmark: fidelity and speed of both impairment backends, through the real
# CLI against a real nslabd, configured next to measured.
#
#   sudo tests/bench/impair/run.sh [--nslabd PATH] [--nslab PATH] [--quick] [--repeat K]
#
# One lab, four nodes: client -(veth link "veth", mode: veth)- s1, client -(link "wire",
# mode: wire)- s2, client -(link "ge", mode: wire, Gilbert-Elliott loss a->b)- s3.
# Sections: 1 delay (ping RTT), 2 random loss (numbered UDP probes), 3 Gilbert-Elliott
# burst loss, 4 rate (TCP goodput), 5 time to apply an impairment, 6 unimpaired TCP
# goodput and small-frame packets/s, wire vs veth, 7 nslabd CPU per Gbit/s on the wire.
# The kernel backend without sch_netem refuses delay: its cells read "n/a (no sch_netem)"
# (from `nslab caps`), and the refusal itself is checked. Traffic: probe.py in this folder,
# run with `nslab exec` (senders, in client) and `ip netns exec LAB-NODE` (receivers).
#
# Runs against a private nslabd (temp socket and state dir) started and stopped here by its
# PID; the lab's name holds this script's PID and is deleted at the end (leftover
# namespaces by exact name). --quick: fewer probes and 1 s transfers. --repeat: runs per
# throughput cell (median; default 3, 1 with --quick). Exits non-zero only when something
# fails to work (the lab, a command, a probe run, a missing refusal), never on a verdict.
set -euo pipefail
# EPOCHREALTIME uses the locale's decimal separator; the arithmetic below expects '.'.
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
NSLABD=$REPO/build/release/daemon/nslabd
NSLAB=$REPO/build/release/client/nslab
PROBE=$HERE/probe.py
QUICK=0
REPEAT=
NODES=(client s1 s2 s3)

# Sizes of the runs; --quick shortens them.
PINGS=20            # pings per delay cell (-i 0.05)
LOSS_PROBES=10000   # UDP probes per loss cell
GE_PROBES=20000     # UDP probes for the Gilbert-Elliott cell
PROBE_GAP_US=200    # 5,000 probes/s: far below what either backend forwards
XFER_S=4            # seconds per TCP transfer and per packets/s run
APPLY_CALLS=10      # timed calls per verb in section 5

# The Gilbert-Elliott link's a->b model (percent). h is the loss probability in the bad
# state, k in the good one (nslab's fields; netem's 1-h and 1-k).
GE_P=5 GE_R=30 GE_H=100 GE_K=0

WORK=
DAEMON_PID=
LAB=
LAB_UP=0
RX_PID=
PY=
HAVE_NETEM=no
FAILURES=0
declare -A ADDR=([s1]=10.91.1.2 [s2]=10.91.2.2 [s3]=10.91.3.2)

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

die() {
  echo "run.sh: $*" >&2
  exit 2
}

parse_args() {
  while (($#)); do
    case $1 in
      --nslabd) NSLABD=$2; shift 2 ;;
      --nslab) NSLAB=$2; shift 2 ;;
      --quick) QUICK=1; shift ;;
      --repeat) REPEAT=$2; shift 2 ;;
      -h | --help) usage 0 ;;
      *) echo "run.sh: unknown argument $1" >&2; usage 2 ;;
    esac
  done
  if ((QUICK)); then
    PINGS=10 LOSS_PROBES=3000 GE_PROBES=5000 XFER_S=1 APPLY_CALLS=5
    REPEAT=${REPEAT:-1}
  fi
  REPEAT=${REPEAT:-3}
  [[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a positive integer, got '$REPEAT'"
  [[ -x $NSLABD ]] || die "no nslabd at $NSLABD (build it or pass --nslabd)"
  [[ -x $NSLAB ]] || die "no nslab at $NSLAB (build it or pass --nslab)"
  ((EUID == 0)) || die "needs root: namespaces, veth pairs, TAPs and /run/netns"
  command -v ip >/dev/null || die "needs iproute2 (ip)"
  command -v ping >/dev/null || die "needs ping (iputils)"
  command -v python3 >/dev/null || die "needs python3 (probe.py)"
  # The interpreter's real path: nslab exec runs with nslabd's environment, whose PATH may
  # not find a pyenv or venv shim.
  PY=$(python3 -c 'import sys; print(sys.executable)')
}

# Sets variable $1 to microseconds since the epoch, without a fork.
stamp() {
  local t=$EPOCHREALTIME
  printf -v "$1" '%d' $((${t%.*} * 1000000 + 10#${t#*.}))
}

# Lower median for an even count, so the value is one that was measured.
median() {
  local sorted
  sorted=$(tr ' ' '\n' <<<"$*" | grep . | sort -g)
  [[ -n $sorted ]] || { echo "-"; return; }
  sed -n "$((($(wc -l <<<"$sorted") + 1) / 2))p" <<<"$sorted"
}

calc() { awk "BEGIN { $1 }"; }

fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

stop_receiver() {
  [[ -n $RX_PID ]] || return 0
  kill -TERM "$RX_PID" 2>/dev/null || true
  wait "$RX_PID" 2>/dev/null || true
  RX_PID=
}

stop_daemon() {
  [[ -n $DAEMON_PID ]] || return 0
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=
}

cleanup() {
  local status=$? node
  trap - EXIT INT TERM
  stop_receiver
  # nslabd keeps labs up when it stops, so ask it to remove the lab first...
  if ((LAB_UP)) && [[ -n $DAEMON_PID ]]; then
    "$NSLAB" --timeout 30 down "$LAB" >/dev/null 2>&1 || echo "run.sh: nslab down $LAB failed" >&2
  fi
  stop_daemon
  # ...then whatever is left, by exact name (the lab's name holds this PID).
  if [[ -n $LAB ]]; then
    for node in "${NODES[@]}"; do
      if [[ -e /run/netns/$LAB-$node ]]; then
        echo "run.sh: deleting leftover netns $LAB-$node" >&2
        ip netns del "$LAB-$node" 2>/dev/null || echo "run.sh: could not delete netns $LAB-$node" >&2
      fi
    done
  fi
  if [[ -n $WORK ]]; then
    if ((status != 0)) && [[ -s $WORK/nslabd.log ]]; then
      echo "--- last lines of nslabd's log ---" >&2
      tail -n 20 "$WORK/nslabd.log" >&2
    fi
    rm -rf "$WORK"
  fi
  exit "$status"
}

start_daemon() {
  # Its own session, so a Ctrl-C meant for this script does not stop nslabd before
  # cleanup() has asked it to delete the lab; setsid execs in place, so $! is nslabd.
  setsid "$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" 2>>"$WORK/nslabd.log" &
  DAEMON_PID=$!
  for _ in $(seq 100); do
    if [[ -S $NSLAB_SOCKET ]] && "$NSLAB" ls >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "nslabd did not start (log: $WORK/nslabd.log)"
}

write_topology() {
  cat >"$WORK/topology.yaml" <<EOF
name: $LAB
seed: 2026
nodes:
  client: {kind: host}
  s1: {kind: host}
  s2: {kind: host}
  s3: {kind: host}
links:
  - {name: veth, a: client:eth0, b: s1:eth0, a_addr: 10.91.1.1/24, b_addr: ${ADDR[s1]}/24, mode: veth}
  - {name: wire, a: client:eth1, b: s2:eth0, a_addr: 10.91.2.1/24, b_addr: ${ADDR[s2]}/24, mode: wire}
  # The CLI has no flags for Gilbert-Elliott, so this link carries it from the start.
  - name: ge
    a: client:eth2
    b: s3:eth0
    a_addr: 10.91.3.1/24
    b_addr: ${ADDR[s3]}/24
    mode: wire
    a_to_b: {gilbert_elliott: {p: $GE_P%, r: $GE_R%, h: $GE_H%, k: $GE_K%}}
EOF
}

lab_up() {
  write_topology
  LAB_UP=1  # from here on cleanup() asks nslabd to delete it, even if up fails half-way
  "$NSLAB" up -t "$WORK/topology.yaml" >"$WORK/up.out" 2>&1 ||
    die "nslab up failed: $(tail -n 5 "$WORK/up.out")"
  HAVE_NETEM=$("$NSLAB" -o json caps | "$PY" "$PROBE" feature netem) ||
    die "nslab caps failed"
}

# nslab impair LAB ARGS..., output kept in $WORK/impair.out; returns its status.
impair() {
  "$NSLAB" impair "$LAB" "$@" >"$WORK/impair.out" 2>&1
}

# Like impair(), but a failure is a FAIL of the bench.
must_impair() {
  impair "$@" || { fail "nslab impair $*: $(tail -n 3 "$WORK/impair.out")"; return 1; }
}

# Backend $1 honours delay? The wire always; the kernel backend only with netem.
has_delay() { [[ $1 == wire || $HAVE_NETEM == yes ]]; }

# Starts probe.py MODE ARGS... as a receiver in node $1 (in the background, via ip netns
# exec) and waits until it has bound its socket. Its JSON lands in $WORK/rx.json.
rx_start() {
  local node=$1
  shift
  rm -f "$WORK/rx.ready" "$WORK/rx.json"
  ip netns exec "$LAB-$node" "$PY" "$PROBE" "$@" --ready "$WORK/rx.ready" \
    --out "$WORK/rx.json" >"$WORK/rx.log" 2>&1 &
  RX_PID=$!
  for _ in $(seq 200); do
    [[ -e $WORK/rx.ready ]] && return 0
    kill -0 "$RX_PID" 2>/dev/null || break
    sleep 0.02
  done
  fail "receiver $* in $node did not start: $(tail -n 3 "$WORK/rx.log")"
  stop_receiver
  return 1
}

# Waits for the receiver; fails unless it wrote its JSON.
rx_wait() {
  local status=0
  wait "$RX_PID" || status=$?
  RX_PID=
  ((status == 0)) && [[ -s $WORK/rx.json ]] && return 0
  fail "receiver exited with $status: $(tail -n 3 "$WORK/rx.log")"
  return 1
}

# Runs probe.py ARGS... as a sender in client through nslab exec; stdout to $WORK/tx.json.
tx_run() {
  "$NSLAB" exec "$LAB" client -- "$PY" "$PROBE" "$@" >"$WORK/tx.json" 2>"$WORK/tx.log" || {
    fail "sender $* failed: $(tail -n 3 "$WORK/tx.log")"
    return 1
  }
}

json() { "$PY" "$PROBE" get "$@"; }

# Median RTT in ms of $PINGS pings from client to $1 by ping(8); "-" if none came back.
# iputils prints RTTs in 1 ms steps from 100 ms up, 0.1 ms from 10 ms: a cross-check.
ping_median() {
  local out
  out=$("$NSLAB" exec "$LAB" client -- ping -n -c "$PINGS" -i 0.05 -W 2 "$1" 2>&1) || true
  median "$(sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' <<<"$out" | tr '\n' ' ')"
}

# The same with probe.py's ICMP echo (same packets, microsecond RTTs): the measurement.
probe_median() {
  local out
  out=$("$NSLAB" exec "$LAB" client -- "$PY" "$PROBE" icmp-ping --dst "$1" --count "$PINGS" \
    --interval 0.05 --wait 2 2>/dev/null) || { echo -; return; }
  "$PY" -c 'import json, sys; m = json.loads(sys.argv[1])["median_ms"]; print("-" if m is None else m)' "$out"
}

# nslabd's utime + stime in seconds.
daemon_cpu_s() {
  local stat fields
  stat=$(<"/proc/$DAEMON_PID/stat")
  read -r -a fields <<<"${stat##*) }"  # after "pid (comm) ": field 3 is fields[0]
  calc "printf \"%.2f\", (${fields[11]} + ${fields[12]}) / $(getconf CLK_TCK)"
}

link_of() { if [[ $1 == veth ]]; then echo veth; else echo wire; fi; }
peer_of() { if [[ $1 == veth ]]; then echo s1; else echo s2; fi; }

rule() { printf '%*s\n' "$1" '' | tr ' ' -; }

# --- 1. delay -----------------------------------------------------------------------
section_delay() {
  echo
  echo "1. Delay: median RTT of $PINGS ICMP echoes (every 50 ms) minus the same link's unimpaired"
  echo "   median; --delay D on both directions, so the expected added RTT is 2*D. ok: within 5%"
  echo "   or 0.3 ms. RTTs from probe.py icmp-ping (kernel receive timestamps, us resolution);"
  echo "   \"ping(8)\": the added RTT by iputils ping, printed in 0.1 ms / 1 ms steps, as a check."
  printf '%-7s %-9s %9s %9s %10s %10s %8s %-9s %s\n' backend "delay/way" "expect ms" "base ms" \
    "RTT ms" "added ms" "error" verdict "ping(8)"
  rule 90
  local backend d base rtt added pbase prtt link peer
  for backend in veth wire; do
    link=$(link_of "$backend") peer=${ADDR[$(peer_of "$backend")]}
    impair "$link" --clear || true
    base=$(probe_median "$peer")
    pbase=$(ping_median "$peer")
    [[ $base != - && $pbase != - ]] || fail "no ping answer over the unimpaired $backend link"
    for d in 10 50 100; do
      if ! has_delay "$backend"; then
        # The refusal is behaviour to check: never silently accepted.
        if impair "$link" --delay "${d}ms"; then
          fail "$backend accepted --delay without sch_netem"
        elif ! grep -q FAILED_PRECONDITION "$WORK/impair.out"; then
          fail "$backend refused --delay without FAILED_PRECONDITION: $(tail -n 2 "$WORK/impair.out")"
        fi
        printf '%-7s %-9s %9s %9.3f   %s\n' "$backend" "$d ms" "$((2 * d))" "$base" \
          "n/a (no sch_netem; refused with FAILED_PRECONDITION)"
        continue
      fi
      must_impair "$link" --delay "${d}ms" || continue
      rtt=$(probe_median "$peer")
      prtt=$(ping_median "$peer")
      if [[ $rtt == - || $base == - ]]; then
        fail "no ping answer over $backend with --delay ${d}ms"
        continue
      fi
      added=$(calc "printf \"%.3f\", $rtt - $base")
      awk -v b="$backend" -v d="$d" -v base="$base" -v rtt="$rtt" -v added="$added" \
        -v pb="$pbase" -v pr="$prtt" 'BEGIN {
          e = added - 2 * d; pct = 100 * e / (2 * d); a = e < 0 ? -e : e
          printf "%-7s %-9s %9d %9.3f %10.3f %10.3f %+7.2f%% %-9s %s\n", b, d " ms", 2 * d,
            base, rtt, added, pct, (a <= 0.3 || a <= 0.05 * 2 * d) ? "ok" : "OFF",
            (pb == "-" || pr == "-") ? "-" : sprintf("%.3f", pr - pb)
        }'
    done
    impair "$link" --clear || true
  done
}

# --- 2. random loss -------------------------------------------------------------------
section_loss() {
  echo
  echo "2. Random loss, a->b only (--dir a_to_b): $LOSS_PROBES numbered UDP probes client -> server"
  echo "   at $((1000000 / PROBE_GAP_US))/s; inside = the lost count is inside the central 99% interval"
  echo "   of Binomial($LOSS_PROBES, configured) (exact)."
  printf '%-7s %10s %8s %7s %10s %18s  %s\n' backend configured probes lost measured \
    "99% interval" verdict
  rule 78
  local backend pct lost expect lo hi
  for backend in veth wire; do
    for pct in 1 10; do
      impair "$(link_of "$backend")" --clear || true
      must_impair "$(link_of "$backend")" --dir a_to_b --loss "${pct}%" || continue
      rx_start "$(peer_of "$backend")" udp-recv --port 9100 --expect "$LOSS_PROBES" --idle 1 || continue
      tx_run udp-send --dst "${ADDR[$(peer_of "$backend")]}" --port 9100 \
        --count "$LOSS_PROBES" --interval-us "$PROBE_GAP_US" || { stop_receiver; continue; }
      rx_wait || continue
      read -r lost expect < <(json "$WORK/rx.json" lost expect)
      read -r lo hi < <("$PY" "$PROBE" binom --n "$expect" --p "$(calc "print $pct / 100")")
      calc "printf \"%-7s %9d%% %8d %7d %9.3f%% %8.3f%%..%6.3f%%  %s\n\", \"$backend\", $pct,
              $expect, $lost, 100 * $lost / $expect, 100 * $lo / $expect, 100 * $hi / $expect,
              ($lost >= $lo && $lost <= $hi) ? \"inside\" : \"OUTSIDE\""
    done
    impair "$(link_of "$backend")" --clear || true
  done
}

# --- 3. Gilbert-Elliott -----------------------------------------------------------------
# The link "ge" runs the simple Gilbert model a->b: h = 100% (every frame in the bad state
# is lost), k = 0% (none in the good state). As in netem's loss_gilb_ell(), a frame's fate
# is decided by the state the chain is in when the frame arrives, then the chain moves
# (good -> bad with p, bad -> good with r). So the lost frames are exactly the frames
# arriving in the bad state: a loss burst is a stay in the bad state, geometric with mean
# 1/r (sd sqrt(1-r)/r); a gap is a stay in the good state, mean 1/p; the stationary loss
# rate is p/(p+r). The 99% interval of the measured mean over B bursts is
# 1/r +- 2.576 sd/sqrt(B) (normal approximation; B is in the hundreds).
# Other frames on the link (ARP, IPv6 ND) also move the chain; a handful in 10^4.
section_ge() {
  echo
  echo "3. Gilbert-Elliott burst loss on the wire (link ge, a->b, set in the topology:"
  echo "   p=$GE_P% r=$GE_R% h=$GE_H% k=$GE_K%): $GE_PROBES numbered UDP probes; a burst = a run of"
  echo "   consecutive lost probes. Model: mean burst 1/r, loss p/(p+r). The kernel backend has"
  echo "   no Gilbert-Elliott without netem."
  printf '%-7s %11s %11s %11s %11s %8s %18s  %s\n' backend "model loss" "meas. loss" \
    "model burst" "meas. burst" bursts "99% interval" verdict
  rule 92
  if [[ $HAVE_NETEM == yes ]]; then
    printf '%-7s   %s\n' veth "(not measured: this bench runs Gilbert-Elliott on the wire only)"
  else
    printf '%-7s   %s\n' veth "n/a (no sch_netem)"
  fi
  rx_start s3 udp-recv --port 9200 --expect "$GE_PROBES" --idle 1 || return 0
  tx_run udp-send --dst "${ADDR[s3]}" --port 9200 --count "$GE_PROBES" \
    --interval-us "$PROBE_GAP_US" || { stop_receiver; return 0; }
  rx_wait || return 0
  local lost expect bursts max_burst
  read -r lost expect bursts max_burst < <(json "$WORK/rx.json" lost expect bursts max_burst)
  ((bursts > 0)) || { fail "Gilbert-Elliott link lost nothing in $expect probes"; return 0; }
  calc "p = $GE_P / 100; r = $GE_R / 100; mean = 1 / r; sd = sqrt(1 - r) / r;
        half = 2.576 * sd / sqrt($bursts); m = $lost / $bursts;
        printf \"%-7s %10.2f%% %10.2f%% %11.3f %11.3f %8d %8.3f..%-8.3f  %s\n\", \"wire\",
          100 * p / (p + r), 100 * $lost / $expect, mean, m, $bursts, mean - half, mean + half,
          (m >= mean - half && m <= mean + half) ? \"inside\" : \"OUTSIDE\""
  echo "   longest burst: $max_burst probes"
}

# One TCP transfer client -> peer of backend $1 for $XFER_S s; sets XFER_BPS (receiver's
# steady-state goodput: see tcp_sink in probe.py), XFER_BYTES, XFER_SECONDS. $2: sender's SO_SNDBUF (0 = default).
tcp_transfer() {
  local backend=$1 sndbuf=$2
  XFER_BPS=
  rx_start "$(peer_of "$backend")" tcp-sink --port 9300 --deadline $((XFER_S + 60)) || return 1
  tx_run tcp-source --dst "${ADDR[$(peer_of "$backend")]}" --port 9300 --seconds "$XFER_S" \
    --sndbuf "$sndbuf" || { stop_receiver; return 1; }
  rx_wait || return 1
  read -r XFER_BPS XFER_BYTES XFER_SECONDS < <(json "$WORK/rx.json" steady_bps bytes seconds)
}

# --- 4. rate ---------------------------------------------------------------------------
section_rate() {
  echo
  echo "4. Rate: TCP goodput client -> server over ${XFER_S} s (receiver's steady state: slope of"
  echo "   bytes received over time, the first 0.3 s left out), median of $REPEAT. Both"
  echo "   backends count whole Ethernet frames, so full-size segments carry at most 1448/1514 ="
  echo "   95.6% of the rate as goodput. ok: within 10% of the configured rate."
  printf '%-7s %11s %14s %14s %9s %9s  %s\n' backend configured "payload max" "measured" \
    "vs rate" "vs max" verdict
  rule 80
  local backend mbit samples sndbuf i m
  for backend in veth wire; do
    for mbit in 10 100; do
      impair "$(link_of "$backend")" --clear || true
      must_impair "$(link_of "$backend")" --dir a_to_b --rate "${mbit}mbit" || continue
      # About 0.1 s of data at the configured rate: what is queued when the clock stops
      # drains quickly, and the sender's clock is close to the receiver's.
      sndbuf=$((mbit * 1000000 / 8 / 10))
      samples=
      for ((i = 1; i <= REPEAT; i++)); do
        tcp_transfer "$backend" "$sndbuf" && samples+="$XFER_BPS "
      done
      [[ -n $samples ]] || continue
      m=$(median "$samples")
      calc "rate = $mbit * 1e6; max = rate * 1448 / 1514; m = $m;
            printf \"%-7s %6d Mbit %9.2f Mbit %9.2f Mbit %+8.1f%% %+8.1f%%  %s\n\", \"$backend\",
              $mbit, max / 1e6, m / 1e6, 100 * (m - rate) / rate, 100 * (m - max) / max,
              (m >= 0.9 * rate && m <= 1.1 * rate) ? \"ok\" : \"OFF (> 10%)\""
    done
    impair "$(link_of "$backend")" --clear || true
  done
}

# --- 5. time to apply --------------------------------------------------------------------
# Appends the wall time in ms of one CLI call, the call being "$@", to APPLY[$1]; a failure
# is a FAIL. No command substitution: fail() must count in this shell.
declare -A APPLY=()
time_call() {
  local key=$1 t0 t1
  shift
  stamp t0
  if ! "$@" >"$WORK/call.out" 2>&1; then
    fail "$*: $(tail -n 2 "$WORK/call.out")"
    return 0
  fi
  stamp t1
  APPLY[$key]+="$(calc "printf \"%.2f\", ($t1 - $t0) / 1000") "
}

section_apply() {
  echo
  echo "5. Time to apply: wall ms of one \`nslab impair\` call (CLI start, gRPC, daemon, reply),"
  echo "   $APPLY_CALLS calls each, set and clear alternating; \`nslab ls\` is the CLI's fixed cost."
  printf '%-46s %-7s %9s %9s %9s\n' call backend median min max
  rule 84
  local i row key label backend samples
  for ((i = 1; i <= APPLY_CALLS; i++)); do
    time_call wire_set "$NSLAB" impair "$LAB" wire --delay 20ms
    time_call wire_clear "$NSLAB" impair "$LAB" wire --clear
    time_call veth_set "$NSLAB" impair "$LAB" veth --rate 10mbit --loss 1%
    time_call veth_clear "$NSLAB" impair "$LAB" veth --clear
    time_call ls "$NSLAB" ls
  done
  for row in "wire_set|nslab impair LAB wire --delay 20ms|wire" \
    "wire_clear|nslab impair LAB wire --clear|wire" \
    "veth_set|nslab impair LAB veth --rate 10mbit --loss 1%|veth" \
    "veth_clear|nslab impair LAB veth --clear|veth" "ls|nslab ls|-"; do
    IFS='|' read -r key label backend <<<"$row"
    samples=${APPLY[$key]:-}
    if [[ -z $samples ]]; then
      printf '%-46s %-7s %9s\n' "$label" "$backend" "FAILED"
      continue
    fi
    printf '%-46s %-7s %9s %9s %9s\n' "$label" "$backend" "$(median "$samples")" \
      "$(tr ' ' '\n' <<<"$samples" | grep . | sort -g | head -1)" \
      "$(tr ' ' '\n' <<<"$samples" | grep . | sort -g | tail -1)"
  done
}

# --- 6 and 7. unimpaired throughput, nslabd's CPU ---------------------------------------
section_throughput() {
  echo
  echo "6. Unimpaired throughput, client -> server, median of $REPEAT: bulk TCP goodput (${XFER_S} s,"
  echo "   default buffers) and 64-byte UDP payloads/s (one Python sender for ${XFER_S} s, as fast"
  echo "   as it can). \"sender-bound\": the receiver got >= 99% of what was sent, so the link"
  echo "   forwards at least that much; the sender, not the link, set the number."
  local backend i c0 c1 cpu=0 bits=0 wire_seconds=0
  local -A tcp=() pps=() sent_pps=()
  for backend in veth wire; do
    impair "$(link_of "$backend")" --clear || true
    for ((i = 1; i <= REPEAT; i++)); do
      c0=$(daemon_cpu_s)
      if tcp_transfer "$backend" 0; then
        c1=$(daemon_cpu_s)
        tcp[$backend]+="$XFER_BPS "
        if [[ $backend == wire ]]; then
          cpu=$(calc "print $cpu + $c1 - $c0")
          bits=$(calc "print $bits + $XFER_BYTES * 8")
          wire_seconds=$(calc "print $wire_seconds + $XFER_SECONDS")
        fi
      fi
      rx_start "$(peer_of "$backend")" udp-recv --port 9400 --idle 1 || continue
      tx_run udp-blast --dst "${ADDR[$(peer_of "$backend")]}" --port 9400 --seconds "$XFER_S" \
        --size 64 || { stop_receiver; continue; }
      rx_wait || continue
      local rcvd rs sent ss
      read -r rcvd rs < <(json "$WORK/rx.json" received seconds)
      read -r sent ss < <(json "$WORK/tx.json" sent seconds)
      pps[$backend]+="$(calc "printf \"%.0f\", $rcvd / $rs") "
      sent_pps[$backend]+="$(calc "printf \"%.0f\", $sent / $ss") "
    done
  done
  local tv tw pv pw sv sw
  tv=$(median "${tcp[veth]:-}") tw=$(median "${tcp[wire]:-}")
  pv=$(median "${pps[veth]:-}") pw=$(median "${pps[wire]:-}")
  sv=$(median "${sent_pps[veth]:-}") sw=$(median "${sent_pps[wire]:-}")
  printf '%-26s %20s %20s %12s\n' metric veth wire wire/veth
  rule 82
  # awk -v: "-" stays a string, numbers compare as numbers.
  awk -v tv="$tv" -v tw="$tw" -v pv="$pv" -v pw="$pw" -v sv="$sv" -v sw="$sw" '
    function mbit(x) { return x == "-" ? "-" : sprintf("%.0f", x / 1e6) }
    function bound(p, s) { return p != "-" && s != "-" && p >= 0.99 * s }
    function delivered(p, s) {
      return (p == "-" || s == "-") ? "-" : sprintf("%.1f%%%s", 100 * p / s, bound(p, s) ? " sender-bound" : "")
    }
    BEGIN {
      printf "%-26s %20s %20s %12s\n", "TCP goodput (Mbit/s)", mbit(tv), mbit(tw),
        (tv == "-" || tw == "-") ? "-" : sprintf("%.3f", tw / tv)
      printf "%-26s %20s %20s %12s\n", "64 B UDP received (pkt/s)", pv, pw,
        (pv == "-" || pw == "-") ? "-" : sprintf("%.3f%s", pw / pv, bound(pv, sv) ? " (<=)" : "")
      printf "%-26s %20s %20s\n", "64 B UDP sent (pkt/s)", sv, sw
      printf "%-26s %20s %20s\n", "  delivered", delivered(pv, sv), delivered(pw, sw)
    }'
  echo "   (<=): the veth figure is only a lower bound (sender-bound), so the ratio is an upper bound."
  echo
  echo "7. nslabd's CPU on the wire: utime+stime of nslabd (/proc/$DAEMON_PID/stat) across the"
  echo "   unimpaired wire TCP transfers of section 6 (payload bits; ACKs ride along)."
  if [[ $bits == 0 ]]; then
    echo "   no wire transfer completed"
    return
  fi
  calc "gbit = $bits / 1e9; cpu = $cpu; s = $wire_seconds;
        printf \"   %.2f Gbit in %.1f s (%.0f Mbit/s): nslabd used %.2f CPU-s = %.0f%% of a core while forwarding\n\",
          gbit, s, 1000 * gbit / s, cpu, 100 * cpu / s;
        printf \"   %-30s %8.3f\n   %-30s %7.1f%%\n\", \"CPU-seconds per Gbit\", cpu / gbit,
          \"% of one core at 1 Gbit/s\", 100 * cpu / gbit"
}

main() {
  parse_args "$@"
  WORK=$(mktemp -d /tmp/nslab-bench-impair-XXXXXX)
  trap cleanup EXIT
  # Turn signals into an exit so the EXIT trap cleans up; 128+signal as a shell would.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  export NSLAB_SOCKET=$WORK/nslabd.sock
  LAB="ib$$"
  start_daemon
  lab_up
  local t0 t1
  stamp t0
  echo "impair bench: lab $LAB, nslabd pid $DAEMON_PID, netem: $HAVE_NETEM, repeat $REPEAT$( ((QUICK)) && echo ", quick");" \
    "$(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  section_delay
  section_loss
  section_ge
  section_rate
  section_apply
  section_throughput
  stamp t1
  echo
  echo "Done in $(calc "printf \"%.0f\", ($t1 - $t0) / 1e6") s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  if ((FAILURES > 0)); then
    echo "impair bench: $FAILURES failure(s); see FAIL lines above" >&2
    exit 1
  fi
}

main "$@"
