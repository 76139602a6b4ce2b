#!/usr/bin/env bash
# The main job: installs everything, builds, starts nslabd, builds the demo lab, shows
# it, sends traffic across it, serves HTTP from a participant node (nslab's own TCP/IP
# stack) under loss, and tears it all down leaving the host as it was.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: run as root: labs are real network namespaces" >&2
  exit 1
fi
bash scripts/setup.sh
jobs=${NSLAB_JOBS:-2}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$jobs" --target nslabd nslab nslab-ustack

bin=build/release
work=$(mktemp -d /tmp/nslab-demo-XXXXXX)
export NSLAB_SOCKET=$work/nslabd.sock
lab=demo-$$
wire_lab=demo-wire-$$
participant_lab=demo-participant-$$
run_lab=demo-run-$$
faults_lab=demo-faults-$$
daemon=
cleanup() {
  "$bin/client/nslab" down "$lab" >/dev/null 2>&1 || true
  "$bin/client/nslab" down "$wire_lab" >/dev/null 2>&1 || true
  "$bin/client/nslab" down "$participant_lab" >/dev/null 2>&1 || true
  "$bin/client/nslab" down "$run_lab" >/dev/null 2>&1 || true
  "$bin/client/nslab" down "$faults_lab" >/dev/null 2>&1 || true
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

"$bin/daemon/nslabd" --socket "$NSLAB_SOCKET" --state-dir "$work/state" 2>"$work/nslabd.log" &
daemon=$!
# Ready when its health check says SERVING (it answers NOT_SERVING while it starts).
for _ in $(seq 100); do "$bin/client/nslab" health >/dev/null 2>&1 && break; sleep 0.1; done

nslab() { "$bin/client/nslab" "$@"; }
fetch() {  # node url: prints the HTTP status or the error, the way a test would see it
  nslab exec "$lab" "$1" -- python3 -c "
import urllib.request, sys
try: print(urllib.request.urlopen('$2', timeout=2).status)
except Exception as e: print(type(getattr(e, 'reason', e)).__name__)"
}

step nslab caps
step nslab up -t topologies/nat-gateway.yaml --name "$lab"
step nslab show "$lab"
echo "# MASQUERADE: the LAN client reaches the outside through the gateway"
step nslab exec "$lab" client -- ping -c2 -i0.2 198.51.100.20
echo "# DNAT port forward 198.51.100.1:80 -> web 10.0.0.10:8080, from the outside"
step fetch outside http://198.51.100.1/
echo "# the blocked source times out; the gateway's DROP rule counts it"
step fetch blocked http://198.51.100.1/
step nslab fw show "$lab" gw
echo "# diagnostics: the article's Docker case, bridge + veth + MASQUERADE: the trace shows the"
echo "# gateway rewriting the client's source on its way out"
step nslab trace "$lab" client 198.51.100.20 --proto icmp
echo "# the port forward: the trace follows the DNAT to web and ends delivered there"
step nslab trace "$lab" outside 198.51.100.1:80 --proto tcp
echo "# where did the blocked client's packet die? (exit 1: it was dropped, after the DNAT)"
step nslab trace "$lab" blocked 198.51.100.1:80 --proto tcp || true
step nslab diag sockets "$lab" web
step nslab diag route "$lab" gw 10.0.0.10
echo "# a packet capture on the gateway's LAN side, read back with tshark"
nslab capture "$lab" gw lan0 -f icmp -c 4 -w "$work/lan.pcap" &
capture=$!
sleep 0.5
step nslab exec "$lab" client -- ping -c2 -i0.2 198.51.100.20
wait "$capture"
step tshark -r "$work/lan.pcap"
echo "# chaos: partition the web server from the gateway, as 'refused' and as 'timed out'"
step nslab partition "$lab" --groups web --groups gw,client --mode reject
step fetch client http://10.0.0.10:8080/
step nslab partition "$lab" --groups web --groups gw,client --mode drop
step fetch client http://10.0.0.10:8080/
step nslab heal "$lab"
step fetch client http://10.0.0.10:8080/
echo "# chaos: the WAN link goes down, and comes back"
step nslab link "$lab" gw:wan0 down
step fetch outside http://198.51.100.1/
step nslab link "$lab" gw:wan0 up
step nslab exec "$lab" client -- ip route get 198.51.100.20
step nslab logs "$lab" web
step nslab down "$lab"
echo "# a userspace wire: 40 ms each way, 2% seeded loss, on a kernel without sch_netem"
step nslab up -t topologies/lossy-wire.yaml --name "$wire_lab"
step nslab exec "$wire_lab" phone -- ping -c 20 -i 0.05 -q 10.41.0.2
step nslab impair "$wire_lab" --show
step nslab down "$wire_lab"
echo "# a participant node: nslab's own TCP/IP stack serving a kernel host, then a lossy link"
step nslab up -t topologies/participant.yaml --name "$participant_lab"
step nslab exec "$participant_lab" client -- sh -c "curl -s http://10.8.0.2/bytes/100000 | wc -c"
step nslab impair "$participant_lab" client:eth0 --loss 5%
step nslab exec "$participant_lab" client -- sh -c "curl -s http://10.8.0.2/bytes/1000000 | wc -c"
step nslab ustack stats "$participant_lab" web
step nslab down "$participant_lab"
echo "# the participant node breaks TCP on purpose: refused vs timed out, a CLOSE_WAIT leak"
step nslab up -t topologies/participant-faults.yaml --name "$faults_lab"
step nslab exec "$faults_lab" client -- curl -sS --max-time 2 http://10.7.0.2:81/ || true
step nslab exec "$faults_lab" client -- curl -sS --max-time 2 http://10.7.0.2:82/ || true
step nslab exec "$faults_lab" client -- curl -s -o /dev/null http://10.7.0.2:83/bytes/10
step nslab exec "$faults_lab" client -- ss -tan state fin-wait-2
step nslab diag sockets "$faults_lab" web --state close-wait
step nslab ustack fault "$faults_lab" web --port 80 reset-after --bytes 1000
step nslab exec "$faults_lab" client -- curl -sS -o /dev/null http://10.7.0.2/bytes/100000 || true
step nslab ustack fault "$faults_lab" web --port 80 --clear
step nslab down "$faults_lab"
echo "# an experiment as code: web1 partitioned for 2 s, checks at millisecond resolution,"
echo "# a JUnit verdict; the lab is built, played and removed by one command"
step nslab run -t topologies/web-pair.yaml --name "$run_lab" \
  -s scenarios/partition-failover.yaml --junit "$work/report.xml"
step grep -c "<testcase" "$work/report.xml"
printf '\nnamespaces of the lab left behind: %s\n' \
  "$(ls /run/netns 2>/dev/null | grep -cx "$lab-.*" || true)"
echo "demo: done"
