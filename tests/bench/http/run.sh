#!/usr/bin/env bash
# HTTP benchmark: the participant node's built-in HTTP app against nginx, side by side in one
# run, each loaded by two Debian load generators from a kernel client in its own namespace —
#   ustack  nslab-ustack --service tcp:80:http on a TAP (wired as tests/bench/tcp_peers/run.sh
#           wires it: the TAP's kernel side and the load generator share one namespace)
#   nginx   Debian's nginx, one worker (worker_processes 1), in a namespace of its own, the load
#           generator in another, over a veth pair; its config, pid, logs and temp paths live in
#           a temporary directory and it serves the ustack's /bytes/N bodies byte for byte
#           (byte i = i % 251, as static files)
# Loads:
#   keep-alive  wrk -c50 -t1 -d<seconds>s --latency  GET /bytes/1024  (50 persistent connections)
#   new conn    ab -r -c100 -n<requests> -e CSV      GET /bytes/100   (HTTP/1.0, one connection
#               per request, 100 at once; -r: a receive error is counted, not the end of the run)
# One wrk thread, as ab has one: on two cores, two wrk threads and the server are three busy
# threads, and a wrk thread woken while its sibling holds the other core waits for the next
# scheduler tick (4 ms at HZ=250) before it reads the response it is timing. That put a 4.2 ms
# p99 on whichever server kept wrk busiest (perf sched: wrk's threads waited 0.97 ms on average
# per switch, the servers' 0.04 ms). One thread drives both servers at least as fast as two did
# here (ustack 100-102k req/s against 83-101k, nginx 54-61k against 37-70k) and times them, not
# itself.
# Prints per server and load: req/s (connects/s for ab: one connection per request), p50/p99
# latency (wrk --latency; ab's -e CSV, which has the per-cent table with µs), failed requests
# (wrk: non-2xx/3xx + socket errors; ab: Failed requests + non-2xx), the server's CPU, the
# ustack's rx_missed_errors before/after (GetStats on its --control socket, the call nslabd
# relays for `nslab ustack stats`, made by ustack_stats.py with Python grpcio), the ratios
# ustack/nginx, the RSS of the ustack process and of nginx's worker, and the ustack's own service
# time during each load (UstackStats.service_times: p50/p99 of the turns of its loop that
# answered, from frames off its rx ring to the answer handed to its device).
#
#   sudo tests/bench/http/run.sh [--build DIR] [--seconds S] [--requests N]
#
# --build DIR     the CMake tree with daemon/ustack/nslab-ustack (default build/release)
# --seconds S     each wrk run (default 5)
# --requests N    each ab run, at least 100 (default 20000)
# Needs wrk, apache2-utils, nginx, curl and python3-grpcio (scripts/setup.sh installs them).
# Every namespace is named with this script's PID and deleted by that name at the end; the
# servers are stopped by their PIDs. Traffic stays inside those namespaces.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BUILD=$REPO/build/release
SECONDS_PER_RUN=5
REQUESTS=20000
PY=/usr/bin/python3  # Debian's, with python3-grpcio

die() { echo "run.sh: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    -h | --help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ $SECONDS_PER_RUN =~ ^[1-9][0-9]*$ ]] || die "--seconds $SECONDS_PER_RUN: a whole number >= 1"
if ! [[ $REQUESTS =~ ^[1-9][0-9]*$ ]] || ((REQUESTS < 100)); then
  die "--requests $REQUESTS: a whole number >= 100 (ab runs 100 at once)"
fi
USTACK=$BUILD/daemon/ustack/nslab-ustack
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
((EUID == 0)) || die "needs root (namespaces, a TAP, a veth pair)"
[[ -x $USTACK ]] || die "no $USTACK (build the nslab-ustack target, or pass --build DIR)"
for tool in wrk ab curl protoc; do
  command -v "$tool" >/dev/null || die "no $tool (scripts/setup.sh installs wrk, apache2-utils, curl, protobuf-compiler)"
done
[[ -x $NGINX ]] || die "no nginx (scripts/setup.sh installs Debian's nginx)"
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
  die "$PY cannot import grpc (install python3-grpcio python3-protobuf)"

NS_U=nslab-httpb-$$-u NS_KC=nslab-httpb-$$-kc NS_KS=nslab-httpb-$$-ks
WORK=$(mktemp -d /tmp/nslab-bench-http-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # nginx's worker is not our child: wait until it is gone.
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 40); do [[ -e /proc/$pid ]] || break; sleep 0.05; done
  done
  for ns in "$NS_U" "$NS_KC" "$NS_KS"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in "$NS_U" "$NS_KC" "$NS_KS"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done

kernel_side() {  # ns ifname address/len
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$1" link set "$2" up
}

# The bodies, as the ustack generates them: byte i is i % 251.
SIZE_KA=1024 SIZE_NC=100
mkdir -p "$WORK/www/bytes"
for n in "$SIZE_KA" "$SIZE_NC"; do
  "$PY" -c 'import sys; n = int(sys.argv[1]); sys.stdout.buffer.write(bytes(i % 251 for i in range(n)))' \
    "$n" >"$WORK/www/bytes/$n"
done
chmod 755 "$WORK" "$WORK/www" "$WORK/www/bytes"  # nginx's worker runs as nobody
chmod 644 "$WORK/www/bytes/"*

# ustack: the TAP is the kernel's interface in NS_U; the stack answers at .2 behind it.
ip netns exec "$NS_U" "$USTACK" --tap tu0 --addr 10.91.0.2/24 --service tcp:80:http \
  --control "$WORK/ustack.sock" >"$WORK/ustack.log" 2>&1 &
USTACK_PID=$!
PIDS+=("$USTACK_PID")
for _ in $(seq 100); do
  grep -q 'ready on' "$WORK/ustack.log" && break
  kill -0 "$USTACK_PID" 2>/dev/null || die "nslab-ustack exited: $(cat "$WORK/ustack.log")"
  sleep 0.05
done
grep -q 'ready on' "$WORK/ustack.log" || die "nslab-ustack never became ready: $(cat "$WORK/ustack.log")"
kernel_side "$NS_U" tu0 10.91.0.1/24

# nginx: one worker, everything it writes under $WORK.
ip link add kc0 netns "$NS_KC" type veth peer name ks0 netns "$NS_KS"
kernel_side "$NS_KC" kc0 10.90.0.1/24
kernel_side "$NS_KS" ks0 10.90.0.2/24
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/client_body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  types { }
  default_type application/octet-stream;
  server_tokens off;
  etag off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=16;
  keepalive_timeout 65s;
  keepalive_requests 100000000;
  server {
    listen 10.90.0.2:80 backlog=4096;
    root $WORK/www;
  }
}
EOF
ip netns exec "$NS_KS" "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
  -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

declare -A NS=([ustack]=$NS_U [nginx]=$NS_KC)
declare -A HOST=([ustack]=10.91.0.2 [nginx]=10.90.0.2)
SERVERS=(ustack nginx)

# Ready when both answer; both must serve the same bodies.
for server in "${SERVERS[@]}"; do
  for _ in $(seq 50); do
    ip netns exec "${NS[$server]}" curl -sf --max-time 1 -o /dev/null \
      "http://${HOST[$server]}/bytes/$SIZE_NC" && break
    sleep 0.1
  done
  for n in "$SIZE_KA" "$SIZE_NC"; do
    ip netns exec "${NS[$server]}" curl -sf --max-time 2 -o "$WORK/got" \
      "http://${HOST[$server]}/bytes/$n" || {
      [[ $server == nginx ]] && cat "$WORK/nginx/error.log" "$WORK/nginx/stdout.log" >&2
      die "$server does not answer GET /bytes/$n at ${HOST[$server]}"
    }
    cmp -s "$WORK/got" "$WORK/www/bytes/$n" || die "$server's /bytes/$n differs from the generated body"
  done
done
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1) || true
[[ -n $NGINX_WORKER ]] || die "nginx (pid $NGINX_PID) has no worker process"
PIDS+=("$NGINX_WORKER")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
server_ticks() {  # server
  if [[ $1 == ustack ]]; then cpu_ticks "$USTACK_PID"
  else echo $(($(cpu_ticks "$NGINX_PID") + $(cpu_ticks "$NGINX_WORKER"))); fi
}
ustack_stats() {  # file
  "$PY" "$HERE/ustack_stats.py" --proto-dir "$REPO/proto" --stubs "$WORK/stubs" \
    --socket "$WORK/ustack.sock" >"$1" ||
    die "could not read the ustack's stats ($(kill -0 "$USTACK_PID" 2>/dev/null && echo running ||
      echo "exited: $(tail -3 "$WORK/ustack.log")"))"
}
stat_of() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
to_ms() {  # wrk's 635.00us, 1.02ms, 1.50s
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") n = -1
    printf "%.3f", n }'
}
now() { date +%s.%N; }
HZ=$(getconf CLK_TCK)
ustack_stats "$WORK/before"  # generates the stubs, and proves the control socket answers

declare -A RPS P50 P99 FAILED OK CPU MISS_BEFORE MISS_AFTER DETAIL
LOADS=(keepalive newconn)
GENERATOR_FAILED=0
run_load() {  # load server
  local load=$1 server=$2 out=$WORK/$1-$2.out csv=$WORK/$1-$2.csv rc=0
  local url=http://${HOST[$server]}/bytes/$SIZE_NC
  [[ $load == keepalive ]] && url=http://${HOST[$server]}/bytes/$SIZE_KA
  [[ $server == ustack ]] && ustack_stats "$WORK/before"
  local ticks_before t0 t1
  ticks_before=$(server_ticks "$server")
  t0=$(now)
  if [[ $load == keepalive ]]; then
    ip netns exec "${NS[$server]}" wrk -c50 -t1 -d"${SECONDS_PER_RUN}s" --latency "$url" \
      >"$out" 2>&1 || rc=$?
  else
    ip netns exec "${NS[$server]}" ab -r -c100 -n"$REQUESTS" -e "$csv" "$url" >"$out" 2>&1 || rc=$?
  fi
  t1=$(now)
  CPU[$load,$server]=$(awk -v t=$(($(server_ticks "$server") - ticks_before)) -v hz="$HZ" \
    -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f%%", 100 * t / hz / (b - a)}')
  if [[ $server == ustack ]]; then
    ustack_stats "$WORK/after"
    MISS_BEFORE[$load]=$(stat_of "$WORK/before" nic.rx_missed_errors)
    MISS_AFTER[$load]=$(stat_of "$WORK/after" nic.rx_missed_errors)
    DETAIL[$load,ustack_counters]=$(awk 'NR == FNR {b[$1] = $2; next}
      $1 != "tcp.curr_estab" && $1 !~ /^service[.]/ && $2 != b[$1] {
        printf "%s%s +%d", sep, $1, $2 - b[$1]; sep = ", "}' "$WORK/before" "$WORK/after")
    DETAIL[$load,ustack_service]=$("$PY" "$HERE/ustack_stats.py" --between "$WORK/before" \
      "$WORK/after")
  fi
  RPS[$load,$server]=n/a P50[$load,$server]=n/a P99[$load,$server]=n/a
  FAILED[$load,$server]=n/a OK[$load,$server]=0
  if ((rc != 0)); then
    echo "run.sh: $load against $server: the load generator exited $rc:" >&2
    tail -5 "$out" >&2
    GENERATOR_FAILED=1
    return 0
  fi
  if [[ $load == keepalive ]]; then
    local rps p50 p99 total non2xx sock
    read -r rps p50 p99 total non2xx sock < <(awk '
      /Requests\/sec:/ {rps = $2}
      $1 == "50%" {p50 = $2}
      $1 == "99%" {p99 = $2}
      / requests in / {total = $1}
      /Non-2xx or 3xx responses:/ {non2xx = $NF}
      /Socket errors:/ {gsub(",", ""); sock = $4 + $6 + $8 + $10; detail = $0}
      END {print rps, p50, p99, total, non2xx + 0, sock + 0}' "$out")
    RPS[$load,$server]=$rps
    P50[$load,$server]=$(to_ms "$p50")
    P99[$load,$server]=$(to_ms "$p99")
    FAILED[$load,$server]=$((non2xx + sock))
    OK[$load,$server]=$((total - non2xx))
    DETAIL[$load,$server]="$total requests, non-2xx/3xx $non2xx,$(grep 'Socket errors:' "$out" |
      sed 's/^ *Socket errors://' || echo ' socket errors none')"
  else
    local rps complete failed non2xx total html
    read -r rps complete failed non2xx total html < <(awk '
      /^Requests per second:/ {rps = $4}
      /^Complete requests:/ {complete = $3}
      /^Failed requests:/ {failed = $3}
      /^Non-2xx responses:/ {non2xx = $3}
      /^Total transferred:/ {total = $3}
      /^HTML transferred:/ {html = $3}
      END {print rps, complete + 0, failed + 0, non2xx + 0, total + 0, html + 0}' "$out")
    RPS[$load,$server]=$rps
    P50[$load,$server]=$(awk -F, '$1 == 50 {printf "%.3f", $2}' "$csv")
    P99[$load,$server]=$(awk -F, '$1 == 99 {printf "%.3f", $2}' "$csv")
    FAILED[$load,$server]=$((failed + non2xx))
    OK[$load,$server]=$((complete - failed - non2xx))
    DETAIL[$load,$server]="$complete complete, failed $failed$(grep -o '(Connect.*)' "$out" |
      sed 's/^/ /' || true), non-2xx $non2xx, response head $(awk -v t="$total" -v h="$html" \
      -v c="$complete" 'BEGIN {if (c) printf "%.0f", (t - h) / c}') B"
  fi
  if ((OK[$load,$server] <= 0)); then
    echo "run.sh: $load against $server: no successful response" >&2
    GENERATOR_FAILED=1
  fi
}

for load in "${LOADS[@]}"; do
  for server in "${SERVERS[@]}"; do
    run_load "$load" "$server"
    sleep 0.5  # the last connections close before the next load
  done
done

rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a"}'; }
declare -A LABEL=([keepalive]="keep-alive 1 KiB" [newconn]="new conn 100 B")

echo "HTTP servers under load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Linux $(uname -r)"
echo "keep-alive: wrk -c50 -t1 -d${SECONDS_PER_RUN}s --latency GET /bytes/$SIZE_KA"
echo "new conn:   ab -r -c100 -n$REQUESTS GET /bytes/$SIZE_NC (HTTP/1.0, a connection per request:"
echo "            req/s = connects/s)"
echo "ustack/nginx rows: the ustack's figure over nginx's (latency: above 1 is slower)"
row() { printf '%-17s %-12s %10s %10s %9s %9s %7s %8s %14s\n' "$@"; }
row load server req/s conn/s "p50 ms" "p99 ms" failed "srv CPU" "rx_missed b/a"
for load in "${LOADS[@]}"; do
  for server in "${SERVERS[@]}"; do
    missed=- conns=-
    [[ $server == ustack ]] && missed="${MISS_BEFORE[$load]}/${MISS_AFTER[$load]}"
    [[ $load == newconn ]] && conns=${RPS[$load,$server]}
    row "${LABEL[$load]}" "$server" "${RPS[$load,$server]}" "$conns" \
      "${P50[$load,$server]}" "${P99[$load,$server]}" "${FAILED[$load,$server]}" \
      "${CPU[$load,$server]}" "$missed"
  done
  conns=-
  [[ $load == newconn ]] && conns=$(ratio "${RPS[$load,ustack]}" "${RPS[$load,nginx]}")
  row "${LABEL[$load]}" "ustack/nginx" \
    "$(ratio "${RPS[$load,ustack]}" "${RPS[$load,nginx]}")" "$conns" \
    "$(ratio "${P50[$load,ustack]}" "${P50[$load,nginx]}")" \
    "$(ratio "${P99[$load,ustack]}" "${P99[$load,nginx]}")" "" "" ""
done
echo
for load in "${LOADS[@]}"; do
  for server in "${SERVERS[@]}"; do
    echo "${LABEL[$load]}, $server: ${DETAIL[$load,$server]}"
  done
  echo "${LABEL[$load]}, ustack counters that moved: ${DETAIL[$load,ustack_counters]:-none}"
  echo "${LABEL[$load]}, ustack service time (frames off its rx ring -> answer handed to its device): ${DETAIL[$load,ustack_service]:-none}"
done
echo "ustack RSS $(mib "$(rss_kib "$USTACK_PID" VmRSS)") (peak $(mib "$(rss_kib "$USTACK_PID" VmHWM)")); nginx worker RSS $(mib "$(rss_kib "$NGINX_WORKER" VmRSS)") (peak $(mib "$(rss_kib "$NGINX_WORKER" VmHWM)"))"
if ((GENERATOR_FAILED)); then
  echo "run.sh: a load generator failed or got no successful response (see above)" >&2
  exit 1
fi
