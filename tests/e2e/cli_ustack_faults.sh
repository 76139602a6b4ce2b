#!/usr/bin/env bash
# Participant-node faults from the CLI: topologies/participant-faults.yaml deployed, "refused
# vs timed out" and a CLOSE-WAIT leak seen with curl, ss in the kernel client's namespace and
# `nslab diag sockets` on the ustack node; then a fault set and cleared at run time with
# `nslab ustack fault`, shown by `nslab ustack stats` and `nslab show`.
source "$(dirname "$0")/lib.sh"

lab=e2efault-$$
before=$(netns_and_links "$lab-")
start_daemon
LABS_MADE+=("$lab")
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
# curl's exit code from the client node: 0 ok, 7 refused, 28 timed out, 52/56 reset or empty.
curl_code() {
  set +e
  "$NSLAB" exec "$lab" client -- curl -s -o /dev/null --max-time "$2" "http://10.7.0.2:$1/" 2>/dev/null
  local code=$?
  set -e
  echo "$code"
}

"$NSLAB" up -t "$SRC/topologies/participant-faults.yaml" --name "$lab" >/dev/null

# Refused vs timed out: RST to the SYN at once, or SYNs into the void until curl gives up.
expect_eq "$(curl_code 80 5)" 0 "port 80 serves"
expect_eq "$(curl_code 81 5)" 7 "port 81 (refuse): connection refused"
expect_eq "$(curl_code 82 1)" 28 "port 82 (blackhole-syn): timed out"

# The CLOSE-WAIT leak: curl gets its answer and closes; the stack never does.
expect_eq "$(curl_code 83 5)" 0 "port 83 (close-wait) still answers"
for _ in $(seq 50); do
  fin_wait=$(ip netns exec "$lab-client" ss -tanH state fin-wait-2 dst 10.7.0.2:83)
  [[ -n $fin_wait ]] && break
  sleep 0.1
done
[[ -n $fin_wait ]] || fail "the kernel client's socket to :83 is not in FIN-WAIT-2"
leak=$("$NSLAB" diag sockets "$lab" web --state close-wait)
expect_contains "$leak" "CLOSE-WAIT" "diag sockets on the ustack node: the leak"
expect_contains "$leak" "10.7.0.2:83" "diag sockets on the ustack node: on port 83"
expect_contains "$("$NSLAB" diag sockets "$lab" web --summary)" "CLOSE-WAIT" "diag sockets --summary"
expect_eq "$("$NSLAB" diag sockets "$lab" web --port 83 --state close-wait -o json |
  json 'len(d["sockets"])')" 1 "diag sockets -o json: one leaked socket"

# At run time: refuse on the healthy port, shown in force, then cleared.
"$NSLAB" ustack fault "$lab" web --port 80 refuse >/dev/null || fail "ustack fault exited $?"
expect_eq "$(curl_code 80 5)" 7 "port 80 after ustack fault refuse"
expect_contains "$("$NSLAB" ustack stats "$lab" web)" "refuse" "ustack stats: the faults in force"
shown=$("$NSLAB" show "$lab")
expect_contains "$shown" "tcp:80" "nslab show: the runtime fault's port"
expect_contains "$shown" "reset-after 1000 bytes" "nslab show: the topology's fault"
"$NSLAB" ustack fault "$lab" web --port 80 --clear >/dev/null || fail "ustack fault --clear exited $?"
expect_eq "$(curl_code 80 5)" 0 "port 80 after --clear"

set +e
bad=$("$NSLAB" ustack fault "$lab" web --port 80 reset-after 2>&1)
bad_code=$?
set -e
[[ $bad_code -ne 0 ]] || fail "reset-after without --bytes must fail"
expect_contains "$bad" "needs bytes" "ustack fault reset-after without --bytes"

"$NSLAB" down "$lab"
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: ustack faults passed"
