#!/usr/bin/env bash
# Lab build benchmark: the same labs built by nslab and by a hand-written `ip -batch`
# baseline, side by side in one run, with wall times and ratios.
#
#   sudo tests/bench/lab_build/run.sh [--nslabd PATH] [--nslab PATH]
#            [--sizes 10,50,100,200] [--repeat K] [--kinds chain,star,linear]
#            [--baseline-max N] [--nofile-soft N] [--private-run]
#
# Labs: a chain of N routers (r1..rN, one /24 per hop, static routes r1 <-> rN), a star
# of N hosts on one switch (one /16), and linear: Mininet's linear topology, N/2 switches
# in a line with a host on each (one /16). Each run is up, one ping from the first node
# to the last one's address (the first packet across), down. The baseline runs only at
# sizes up to --baseline-max (default 1000); --nofile-soft starts nslabd with that
# open-files soft limit (ulimit -Sn), as systemd does with 1024. --private-run runs both
# sides in a private mount namespace whose /run/netns is a fresh tmpfs, as /run is on a
# stock Debian (systemd mounts /run as tmpfs) and in containers: where /run/netns is on a
# disk file system, as on some VMs, its inode allocation is part of every namespace's cost
# (on ext4 without a journal, each new file skips inodes deleted in the last 5-10 minutes,
# so a run after big deletes grows faster than linear). The scale table gives
# the time per node and the growth from one size to the next. nslab's side runs against a private nslabd (temp
# socket and state dir) that this script starts and stops by its PID. The baseline is
# what an engineer would write by hand: see gen.py for the exact commands.
#
# Exits non-zero if any lab failed to build, answer the ping or tear down: it asserts
# behaviour, not speed. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for /run/netns).
set -euo pipefail
# EPOCHREALTIME uses the locale's decimal separator; the arithmetic below expects '.'.
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
NSLABD=$REPO/build-bench/daemon/nslabd
NSLAB=$REPO/build-bench/client/nslab
SIZES=10,50,100,200
REPEAT=1
KINDS=chain,star
BASELINE_MAX=1000
NOFILE_SOFT=
PRIVATE_RUN=0
# The kernel frees a deleted namespace asynchronously (cleanup_net on the netns
# workqueue); a run that starts while the previous lab is still being freed competes
# with that work for the CPU and rtnl_lock. settle() waits for it, at most this long: the
# kernel's work grows with the square of the namespaces (about 50 s after 5,000 here).
SETTLE_TIMEOUT_S=900

WORK=
DAEMON_PID=
CURRENT_NSLAB_LAB=
FAILURES=0
# Results: key "kind:n:side:phase" -> space-separated microsecond samples.
declare -A SAMPLES=()
# nslabd's VmHWM (kB) after all labs of size n.
declare -A HWM_AFTER=()

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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
      --sizes) SIZES=$2; shift 2 ;;
      --repeat) REPEAT=$2; shift 2 ;;
      --kinds) KINDS=$2; shift 2 ;;
      --baseline-max) BASELINE_MAX=$2; shift 2 ;;
      --nofile-soft) NOFILE_SOFT=$2; shift 2 ;;
      --private-run) PRIVATE_RUN=1; shift ;;
      -h | --help) usage 0 ;;
      *) echo "run.sh: unknown argument $1" >&2; usage 2 ;;
    esac
  done
  [[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a positive integer, got '$REPEAT'"
  [[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--sizes wants e.g. 10,50, got '$SIZES'"
  [[ $KINDS =~ ^(chain|star|linear)(,(chain|star|linear))*$ ]] ||
    die "--kinds wants chain,star,linear, got '$KINDS'"
  [[ $BASELINE_MAX =~ ^[0-9]+$ ]] || die "--baseline-max wants a size, got '$BASELINE_MAX'"
  [[ -z $NOFILE_SOFT || $NOFILE_SOFT =~ ^[1-9][0-9]*$ ]] ||
    die "--nofile-soft wants a number, got '$NOFILE_SOFT'"
  local n
  for n in ${SIZES//,/ }; do
    ((n >= 2)) || die "--sizes: each N must be at least 2, got $n"
    if [[ ,$KINDS, == *,linear,* ]] && ((n < 4 || n % 2)); then
      die "--sizes: a linear lab has N/2 switches and N/2 hosts: N even, at least 4, got $n"
    fi
    # A ping crosses at most 254 forwarding routers (TTL 255), so a chain stops at 256.
    if [[ ,$KINDS, == *,chain,* ]] && ((n > 256)); then
      die "--sizes: a chain stops at 256 routers (TTL), got $n; use --kinds star,linear"
    fi
  done
  [[ -x $NSLABD ]] || die "no nslabd at $NSLABD (build it or pass --nslabd)"
  [[ -x $NSLAB ]] || die "no nslab at $NSLAB (build it or pass --nslab)"
  ((EUID == 0)) || die "needs root: namespaces, veth pairs and /run/netns"
  command -v ip >/dev/null || die "needs iproute2 (ip)"
  command -v python3 >/dev/null || die "needs python3 (gen.py)"
}

# Sets variable $1 to microseconds since the epoch, from bash's own clock: no fork
# (as $(...) would be) at the edges of a timed span.
stamp() {
  local t=$EPOCHREALTIME
  printf -v "$1" '%d' $((${t%.*} * 1000000 + 10#${t#*.}))
}

seconds() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1e6 }'; }

record() { SAMPLES[$1]+="$2 "; }

median() {
  # Lower median for even K, so the value is always one that was measured.
  local sorted
  sorted=$(tr ' ' '\n' <<<"$1" | grep . | sort -n)
  sed -n "$((($(wc -l <<<"$sorted") + 1) / 2))p" <<<"$sorted"
}

# Every namespace this run may have made is listed in a `namespaces` file under
# $WORK/labs; all names carry this script's PID. Deletes those that still exist and no
# other.
delete_our_namespaces() {
  local list name
  for list in "$WORK"/labs/*/namespaces; do
    [[ -f $list ]] || continue
    while read -r name; do
      [[ $name == *"$$"* ]] || continue  # defensive: never a name we did not generate
      if [[ -e /run/netns/$name ]]; then
        ip netns del "$name" 2>/dev/null || echo "run.sh: could not delete netns $name" >&2
      fi
    done <"$list"
  done
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
  local status=$?
  trap - EXIT INT TERM
  # nslabd keeps labs up when it stops, so ask it to remove its lab first...
  if [[ -n $CURRENT_NSLAB_LAB && -n $DAEMON_PID ]]; then
    "$NSLAB" --timeout 30 down "$CURRENT_NSLAB_LAB" >/dev/null 2>&1 || true
  fi
  stop_daemon
  # ...then remove by exact name whatever is left (interrupted build, failed baseline).
  if [[ -n $WORK ]]; then
    delete_our_namespaces
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
  # cleanup() has asked it to delete its lab; setsid execs in place, so $! is nslabd.
  # With --nofile-soft, the limit nslabd starts with; it raises the soft limit itself.
  (
    [[ -z $NOFILE_SOFT ]] || ulimit -Sn "$NOFILE_SOFT"
    exec setsid "$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" 2>>"$WORK/nslabd.log"
  ) &
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

# A field of nslabd's /proc status in kB; 0 if nslabd is gone (its runs then fail).
daemon_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo 0; }

# Waits until no kernel worker is running netns cleanup, three samples in a row, so
# that the previous lab's teardown does not slow the next build (see SETTLE_TIMEOUT_S).
settle() {
  local start now quiet=0
  stamp start
  while ((quiet < 3)); do
    # A kworker's name ends in "+netns" while it runs netns work ("-netns" when idle);
    # ps shows the full name, pgrep matches a truncated one.
    # Captured first: under pipefail, `ps | grep -q` fails when grep exits at the match and
    # ps dies of SIGPIPE, which would count a busy sample as quiet.
    local names
    names=$(ps -e -o comm=)
    if grep -q '+netns$' <<<"$names"; then quiet=0; else quiet=$((quiet + 1)); fi
    stamp now
    if ((now - start > SETTLE_TIMEOUT_S * 1000000)); then
      echo "run.sh: kernel netns cleanup still busy after ${SETTLE_TIMEOUT_S}s; going on" >&2
      return
    fi
    sleep 0.05
  done
  # Said when it is long, so that the time a big lab's removal costs the kernel shows.
  if ((now - start > 5000000)); then
    echo "  (waited $(seconds $((now - start))) s for the kernel to free the previous lab's namespaces)"
  fi
}

# gen.py writes both forms of one lab into $WORK/labs/LAB and prints FIRST, FIRST_NS
# and TARGET as shell assignments; the caller evals them into its locals.
generate() {
  python3 "$HERE/gen.py" --kind "$1" --n "$2" --name "$3" --out "$WORK/labs/$3"
}

# One line per run, as it happens, so a long run shows progress.
report_run() {
  local kind=$1 n=$2 side=$3 ok=$4 up=$5 check=$6 down=$7
  if ((ok)); then
    printf '  %-5s N=%-4s %-8s up %s  check %s  down %s\n' "$kind" "$n" "$side" \
      "$(seconds "$up")" "$(seconds "$check")" "$(seconds "$down")"
  else
    printf '  %-5s N=%-4s %-8s FAILED\n' "$kind" "$n" "$side"
  fi
}

fail_run() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# One nslab run: up (returns when the lab is ready), ping first -> last, down.
run_nslab() {
  local kind=$1 n=$2
  local lab="nb$$-$kind$n" vars FIRST FIRST_NS TARGET t0 t1 t2 t3 name ok=1
  local dir=$WORK/labs/$lab
  vars=$(generate "$kind" "$n" "$lab") || { fail_run "gen.py $kind N=$n"; return 1; }
  eval "$vars"
  CURRENT_NSLAB_LAB=$lab
  stamp t0
  if ! "$NSLAB" --timeout 600 up -t "$dir/topology.yaml" --name "$lab" >"$dir/up.out" 2>&1; then
    fail_run "nslab up $kind N=$n: $(tail -n 3 "$dir/up.out")"
    CURRENT_NSLAB_LAB=
    report_run "$kind" "$n" nslab 0 0 0 0
    return 1
  fi
  stamp t1
  if ! "$NSLAB" exec "$lab" "$FIRST" -- ping -c1 -W2 "$TARGET" >"$dir/check.out" 2>&1; then
    fail_run "nslab $kind N=$n: $FIRST cannot ping $TARGET: $(tail -n 3 "$dir/check.out")"
    ok=0
  fi
  stamp t2
  if ! "$NSLAB" --timeout 600 down "$lab" >"$dir/down.out" 2>&1; then
    fail_run "nslab down $kind N=$n: $(tail -n 3 "$dir/down.out")"
    ok=0
  fi
  stamp t3
  CURRENT_NSLAB_LAB=
  # down must leave nothing behind: every namespace of the lab is gone.
  while read -r name; do
    [[ ! -e /run/netns/$name ]] || { fail_run "nslab down left netns $name"; ok=0; }
  done <"$dir/namespaces"
  report_run "$kind" "$n" nslab "$ok" $((t1 - t0)) $((t2 - t1)) $((t3 - t2))
  ((ok)) || return 1
  record "$kind:$n:nslab:up" $((t1 - t0))
  record "$kind:$n:nslab:check" $((t2 - t1))
  record "$kind:$n:nslab:down" $((t3 - t2))
  record "$kind:$n:nslab:total" $((t3 - t0))
}

# The same lab by hand: one ip -batch for what is done from the host (netns add, veth
# pairs created inside the namespaces), one `ip -n NS -batch` per namespace (iproute2's
# batch has no per-line -n), /proc/sys writes through `ip netns exec` where needed.
baseline_up() {
  local dir=$1 ns body
  ip -batch "$dir/up.batch" || return 1
  # In node order (a switch before its hosts), as nslabd does. With the bridge
  # configured last, the first ping waits ~1 s: the new ports only forward once the
  # kernel's linkwatch has processed their carrier change.
  while read -r ns; do
    ip -n "$ns" -batch "$dir/ns/$ns" || return 1
  done <"$dir/namespaces"
  while read -r ns body; do
    ip netns exec "$ns" sh -c "$body" || return 1
  done <"$dir/sysctl.lines"
}

run_baseline() {
  local kind=$1 n=$2
  local lab="bb$$-$kind$n" vars FIRST FIRST_NS TARGET t0 t1 t2 t3 ok=1
  local dir=$WORK/labs/$lab
  vars=$(generate "$kind" "$n" "$lab") || { fail_run "gen.py $kind N=$n"; return 1; }
  eval "$vars"
  stamp t0
  if ! baseline_up "$dir" >"$dir/up.out" 2>&1; then
    fail_run "baseline up $kind N=$n: $(tail -n 3 "$dir/up.out")"
    delete_our_namespaces
    report_run "$kind" "$n" baseline 0 0 0 0
    return 1
  fi
  stamp t1
  # The script waits for nothing after its last command: a first packet can meet a link the
  # kernel's linkwatch has not activated yet, whose no-op queue refuses it (ping: ENOBUFS, at
  # once). Asked up to 20 times, 0.1 s apart, as by hand; the time counts in the check.
  # nslab's side gets one ping: its up returns only when the links run.
  local try
  for try in $(seq 20); do
    ip netns exec "$FIRST_NS" ping -c1 -W2 "$TARGET" >"$dir/check.out" 2>&1 && break
    sleep 0.1
  done
  if ! grep -q ' 0% packet loss' "$dir/check.out"; then
    fail_run "baseline $kind N=$n: $FIRST cannot ping $TARGET: $(tail -n 3 "$dir/check.out")"
    ok=0
  fi
  stamp t2
  if ! ip -batch "$dir/down.batch" >"$dir/down.out" 2>&1; then
    fail_run "baseline down $kind N=$n: $(tail -n 3 "$dir/down.out")"
    delete_our_namespaces
    ok=0
  fi
  stamp t3
  report_run "$kind" "$n" baseline "$ok" $((t1 - t0)) $((t2 - t1)) $((t3 - t2))
  ((ok)) || return 1
  record "$kind:$n:base:up" $((t1 - t0))
  record "$kind:$n:base:check" $((t2 - t1))
  record "$kind:$n:base:down" $((t3 - t2))
  record "$kind:$n:base:total" $((t3 - t0))
}

run_all() {
  local n kind rep sizes kinds
  IFS=, read -r -a sizes <<<"$SIZES"
  IFS=, read -r -a kinds <<<"$KINDS"
  for n in "${sizes[@]}"; do
    for kind in "${kinds[@]}"; do
      for ((rep = 1; rep <= REPEAT; rep++)); do
        # Alternate who goes first so neither side always inherits the other's
        # leftovers (page cache, slab caches, a busy neighbour).
        if ((n > BASELINE_MAX)); then
          settle; run_nslab "$kind" "$n" || true
        elif ((rep % 2)); then
          settle; run_nslab "$kind" "$n" || true
          settle; run_baseline "$kind" "$n" || true
        else
          settle; run_baseline "$kind" "$n" || true
          settle; run_nslab "$kind" "$n" || true
        fi
      done
    done
    HWM_AFTER[$n]=$(daemon_kb VmHWM)
  done
}

# Prints "-" when a cell has no sample (its runs failed).
cell() {
  local samples=${SAMPLES[$1]:-}
  if [[ -z $samples ]]; then echo "-"; else seconds "$(median "$samples")"; fi
}

print_table() {
  local n kind sizes kinds
  IFS=, read -r -a sizes <<<"$SIZES"
  IFS=, read -r -a kinds <<<"$KINDS"
  echo
  echo "Wall seconds, median of $REPEAT run(s) per cell (each column's own median)."
  echo "total = up + check + down; up = until the lab is ready; check = one ping first -> last."
  printf '%-6s %5s | %8s %8s %8s %8s | %8s %8s %8s %8s | %7s %7s | %9s\n' \
    lab N nslab up check down base up check down ratio up-ratio "nslabd"
  printf '%-6s %5s | %8s %8s %8s %8s | %8s %8s %8s %8s | %7s %7s | %9s\n' \
    "" "" total "" "" "" total "" "" "" total "" "VmHWM MiB"
  for kind in "${kinds[@]}"; do
    for n in "${sizes[@]}"; do
      local nt nu bt bu ratio up_ratio
      nt=$(cell "$kind:$n:nslab:total"); nu=$(cell "$kind:$n:nslab:up")
      bt=$(cell "$kind:$n:base:total"); bu=$(cell "$kind:$n:base:up")
      ratio=$(awk -v a="$nt" -v b="$bt" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
      up_ratio=$(awk -v a="$nu" -v b="$bu" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
      printf '%-6s %5s | %8s %8s %8s %8s | %8s %8s %8s %8s | %7s %7s | %9s\n' \
        "$kind" "$n" "$nt" "$nu" "$(cell "$kind:$n:nslab:check")" "$(cell "$kind:$n:nslab:down")" \
        "$bt" "$bu" "$(cell "$kind:$n:base:check")" "$(cell "$kind:$n:base:down")" \
        "$ratio" "$up_ratio" "$(awk -v k="${HWM_AFTER[$n]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
    done
  done
  print_scale_table
  local largest=${sizes[-1]}
  echo
  echo "nslabd peak RSS (VmHWM) after the N=$largest labs: $(awk -v k="${HWM_AFTER[$largest]:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
    "(VmRSS now $(awk -v k="$(daemon_kb VmRSS)" 'BEGIN { printf "%.1f MiB", k / 1024 }');" \
    "at start $(awk -v k="$START_RSS_KB" 'BEGIN { printf "%.1f MiB", k / 1024 }'))"
  echo "Machine: $(nproc) CPUs, kernel $(uname -r), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Time per node and growth: for each size after the first, time(n)/time(previous n)
# beside n/previous n (flat cost per node: the two are equal).
print_scale_table() {
  local kind n prev phase sizes kinds
  IFS=, read -r -a sizes <<<"$SIZES"
  IFS=, read -r -a kinds <<<"$KINDS"
  echo
  echo "Scale: nslab's milliseconds per node, and growth = time(n)/time(previous n) for n/previous n;"
  echo "up x5 = up(n)/up(n/5) where both sizes ran (flat cost per node: x5.00)."
  printf '%-6s %6s | %9s %9s %9s | %13s %13s %13s | %6s\n' lab N "up ms/node" "down ms/node" \
    "total ms/node" "up growth" "down growth" "total growth" "up x5"
  for kind in "${kinds[@]}"; do
    prev=
    for n in "${sizes[@]}"; do
      local cells=() growth=()
      for phase in up down total; do
        local t p
        t=$(cell "$kind:$n:nslab:$phase")
        cells+=("$(awk -v t="$t" -v n="$n" 'BEGIN { if (t == "-") print "-"; else printf "%.3f", t * 1000 / n }')")
        if [[ -n $prev ]]; then
          p=$(cell "$kind:$prev:nslab:$phase")
          growth+=("$(awk -v t="$t" -v p="$p" -v n="$n" -v prev="$prev" 'BEGIN { if (t == "-" || p == "-" || p == 0) print "-"; else printf "x%.2f (x%g)", t / p, n / prev }')")
        else
          growth+=("" "" "")
        fi
      done
      local five=
      if ((n % 5 == 0)) && [[ ,$SIZES, == *,$((n / 5)),* ]]; then
        five=$(awk -v t="$(cell "$kind:$n:nslab:up")" -v p="$(cell "$kind:$((n / 5)):nslab:up")" \
          'BEGIN { if (t == "-" || p == "-" || p == 0) print "-"; else printf "x%.2f", t / p }')
      fi
      printf '%-6s %6s | %9s %9s %9s | %13s %13s %13s | %6s\n' "$kind" "$n" "${cells[0]}" \
        "${cells[1]}" "${cells[2]}" "${growth[0]}" "${growth[1]}" "${growth[2]}" "$five"
      prev=$n
    done
  done
}

# With --private-run: re-runs this script in a new mount namespace (unshare), where a
# tmpfs is mounted on /run/netns. Nothing of it reaches the host's mounts: the namespace
# is private and ends with the script.
enter_private_run() {
  if [[ -z ${NSLAB_BENCH_PRIVATE_RUN:-} ]]; then
    command -v unshare >/dev/null || die "--private-run needs unshare (util-linux)"
    NSLAB_BENCH_PRIVATE_RUN=1 exec unshare --mount --propagation private -- \
      bash "${BASH_SOURCE[0]}" "$@"
  fi
  mkdir -p /run/netns
  mount -t tmpfs -o mode=0755,size=64m nslab-bench-netns /run/netns ||
    die "--private-run: cannot mount a tmpfs on /run/netns"
  echo "lab_build bench: private mount namespace, /run/netns on tmpfs"
}

main() {
  parse_args "$@"
  ((PRIVATE_RUN)) && enter_private_run "$@"
  WORK=$(mktemp -d /tmp/nslab-bench-lab-build-XXXXXX)
  trap cleanup EXIT
  # Turn signals into an exit so the EXIT trap cleans up; 128+signal as a shell would.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  export NSLAB_SOCKET=$WORK/nslabd.sock
  mkdir -p "$WORK/labs"
  start_daemon
  START_RSS_KB=$(daemon_kb VmRSS)
  echo "lab_build bench: sizes $SIZES, kinds $KINDS, repeat $REPEAT, baseline up to N=$BASELINE_MAX;" \
    "nslabd pid $DAEMON_PID, open files started at soft ${NOFILE_SOFT:-$(ulimit -Sn)}, hard $(ulimit -Hn);" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg); work dir $WORK"
  run_all
  print_table
  if ((FAILURES > 0)); then
    echo "lab_build bench: $FAILURES failure(s); see FAIL lines above" >&2
    exit 1
  fi
}

main "$@"
