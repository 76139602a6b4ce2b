#!/usr/bin/env bash
# The diagnostics verbs (diag, trace) and the participant node's (ustack), run as a user
# would. Each answer is checked against the kernel's own view of the lab (ip, ss, nft, sysfs
# inside the node) or against traffic this script sends, never against words it passed in.
source "$(dirname "$0")/lib.sh"

lab=e2ediag-$$
ulab=$lab-u  # its namespaces also start with "$lab-"
before=$(netns_and_links "$lab-")
start_daemon
LABS_MADE+=("$lab" "$ulab")

in_node() { local node=$1; shift; ip netns exec "$lab-$node" "$@"; }
# Prints a value of the JSON on stdin: the Python expression $1 over it, named d.
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# client -- gw -- server; gw tracks connections and drops tcp/8081.
cat >"$WORK/diag.yaml" <<'EOF'
nodes:
  client: {kind: host}
  gw:
    kind: router
    nftables: |
      table inet filter {
        chain forward {
          type filter hook forward priority 0; policy accept;
          ct state established,related accept
          tcp dport 8081 counter drop
        }
      }
  server: {kind: host}
links:
  - {a: client:eth0, b: gw:lan0, a_addr: 10.33.1.2/24, b_addr: 10.33.1.1/24}
  - {a: gw:wan0, b: server:eth0, a_addr: 10.33.2.1/24, b_addr: 10.33.2.2/24}
routes:
  client: [{to: 10.33.2.0/24, via: 10.33.1.1}]
  server: [{to: 10.33.1.0/24, via: 10.33.2.1}]
run:
  server: [{cmd: "exec python3 -m http.server 8080 --bind 10.33.2.2", ready: {tcp: 8080}}]
EOF
"$NSLAB" up -t "$WORK/diag.yaml" --name "$lab" >/dev/null

# sockets: the listener and its owner, as ss sees them in the node.
owner=$(in_node server ss -Hltnp 'sport = :8080' | grep -o 'users:(([^)]*))')
[[ -n $owner ]] || fail "ss sees no listener on 8080 in server"
expect_contains "$("$NSLAB" diag sockets "$lab" server --state listen --port 8080)" "$owner" \
  "diag sockets: the listener's owner"

# route: the same decision as the kernel's `ip route get`, at the source and forwarded at gw.
kernel=$(in_node client ip -o route get 10.33.2.2)
hop=$(awk '{for (i = 1; i < NF; i++) if ($i == "via" || $i == "dev") printf "%s %s ", $i, $(i+1)}' <<<"$kernel")
expect_contains "$("$NSLAB" diag route "$lab" client 10.33.2.2)" "${hop% }" "diag route: $kernel"
kernel=$(in_node gw ip -o route get 10.33.2.2 from 10.33.1.2 iif lan0)
dev=$(awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i+1)}' <<<"$kernel")
expect_contains "$("$NSLAB" diag route "$lab" gw 10.33.2.2 --from 10.33.1.2 --iif lan0)" \
  "dev $dev" "diag route --iif: $kernel"

# routes: the lines `ip rule` and `ip route show table all` print in the node.
routes=$("$NSLAB" diag routes "$lab" client)
while IFS= read -r line; do
  expect_contains "$routes" "${line% }" "diag routes has the kernel's route"
done < <(in_node client ip -4 route show table all)
while IFS= read -r line; do
  expect_contains "$routes" "${line% }" "diag routes has the kernel's rule"
done < <(in_node client ip -4 rule)

# conntrack: the flow of one fetch through gw, named by its source port.
code=$("$NSLAB" exec "$lab" client -- curl -s -o /dev/null -w '%{http_code}' --local-port 41000 \
  http://10.33.2.2:8080/)
expect_eq "$code" 200 "fetch through gw"
conntrack=$("$NSLAB" diag conntrack "$lab" gw)
flow=$(grep -F 'src=10.33.1.2 dst=10.33.2.2 sport=41000 dport=8080' <<<"$conntrack") ||
  fail "diag conntrack: no entry for the fetch in: $conntrack"
expect_contains "$flow" "src=10.33.2.2 dst=10.33.1.2 sport=8080 dport=41000" "conntrack reply tuple"
expect_contains "$flow" "[ASSURED]" "conntrack: the fetch completed its handshake"

# fw: the drop rule's counter, as nft counts it in gw.
set +e
"$NSLAB" exec "$lab" client -- curl -s --max-time 1 http://10.33.2.2:8081/ >/dev/null
blocked=$?
set -e
[[ $blocked -ne 0 ]] || fail "the fetch to 8081 should be dropped at gw"
nft_packets=$(in_node gw nft list chain inet filter forward |
  sed -n 's/.*tcp dport 8081 counter packets \([0-9]*\).*/\1/p')
diag_packets=$("$NSLAB" diag fw "$lab" gw -o json |
  json '[r["packets"] for r in d["rules"] if r["text"] == "tcp dport 8081 drop"][0]')
[[ $nft_packets -ge 1 ]] || fail "nft counted no dropped packet: $nft_packets"
expect_eq "$diag_packets" "$nft_packets" "diag fw: the drop rule's packets"

# neigh and links: gw resolved server during the fetch; the MAC is server's own.
server_mac=$(in_node server cat /sys/class/net/eth0/address)
expect_contains "$("$NSLAB" diag neigh "$lab" gw)" "10.33.2.2 dev wan0 lladdr $server_mac" \
  "diag neigh: gw's entry for server"
expect_contains "$("$NSLAB" diag links "$lab" server)" "link/ether $server_mac" "diag links: MAC"
kind=$(in_node client tc qdisc show dev eth0 | awk 'NR == 1 {print $2}')
expect_contains "$("$NSLAB" diag qdisc "$lab" client eth0)" "qdisc $kind " "diag qdisc"

# snapshot: every node, and a ping's packets in the counters that changed since.
"$NSLAB" diag snapshot "$lab" -o json >"$WORK/before.json"
expect_eq "$(json 'sorted(n["node"] for n in d["nodes"])' <"$WORK/before.json")" \
  "['client', 'gw', 'server']" "diag snapshot: every node"
"$NSLAB" exec "$lab" client -- ping -c3 -i0.2 -W2 10.33.2.2 >/dev/null || fail "ping to server"
since=$("$NSLAB" diag snapshot "$lab" --since "$WORK/before.json")
grep -Eq '^server +link eth0 +rx_packets +[0-9]+ +[0-9]+ +\+[0-9]+' <<<"$since" ||
  fail "diag snapshot --since: no rx_packets rise on server's eth0 in: $since"

# trace: delivered, dropped by gw's rule, refused; the exit code says whether it was dropped.
set +e
delivered=$("$NSLAB" trace "$lab" client 10.33.2.2:8080)
delivered_code=$?
dropped=$("$NSLAB" trace "$lab" client 10.33.2.2:8081 --wait 500)
dropped_code=$?
refused=$("$NSLAB" trace "$lab" client server:8082)
refused_code=$?
set -e
expect_eq "$delivered_code" 0 "trace to a listener exits 0: $delivered"
expect_contains "$delivered" "gw in lan0 out wan0" "trace: the hop through gw"
expect_contains "$delivered" "verdict: delivered" "trace: delivered"
expect_eq "$dropped_code" 1 "trace into a drop rule exits 1: $dropped"
expect_contains "$dropped" "dropped at gw by rule" "trace names where it was dropped"
expect_contains "$dropped" "inet filter forward" "trace names the chain"
# The probe reached server, which answered RST: delivered (exit 0), and refused.
expect_eq "$refused_code" 0 "trace to a closed port exits 0: $refused"
expect_contains "$refused" "answer: rst, connect: refused" "trace: refused, not timed out"

# ustack: the participant node's stack, asked once right after up.
"$NSLAB" up -t "$SRC/topologies/participant.yaml" --name "$ulab" >/dev/null
stats=$("$NSLAB" ustack stats "$ulab" web -o json) || fail "ustack stats right after up"
listening='sorted(int(s["local"].split(":")[1]) for s in d["tcp_sockets"] if s["state"] == "LISTEN")'
expect_eq "$(json "$listening" <<<"$stats")" "[7, 80]" "ustack stats: the topology's tcp services listen"
opens=$(json 'int(d["tcp"]["passive_opens"])' <<<"$stats")
rx=$(json 'int(d["nic"]["rx_packets"])' <<<"$stats")
bytes=$("$NSLAB" exec "$ulab" client -- sh -c 'curl -s --max-time 10 http://10.8.0.2/bytes/1000 | wc -c')
expect_eq "$bytes" 1000 "HTTP from the ustack node"
stats=$("$NSLAB" ustack stats "$ulab" web -o json)
[[ $(json 'int(d["tcp"]["passive_opens"])' <<<"$stats") -gt $opens ]] ||
  fail "ustack stats: the fetch is not counted as a passive open"
[[ $(json 'int(d["nic"]["rx_packets"])' <<<"$stats") -gt $rx ]] ||
  fail "ustack stats: the NIC received nothing during the fetch"
client_mac=$(ip netns exec "$ulab-client" cat /sys/class/net/eth0/address)
expect_eq "$(json '[e["mac"] for e in d["arp"]["entries"] if e["ip"] == "10.8.0.1"]' <<<"$stats")" \
  "['$client_mac']" "ustack stats: the ARP entry for client is client's MAC"
expect_contains "$("$NSLAB" ustack stats "$ulab" web)" "passive_opens" "ustack stats as text"

# set: a ring resize restarts the NIC; the stack reports the new size and still serves.
"$NSLAB" ustack set "$ulab" web --rx-ring 64 >/dev/null || fail "ustack set exited $?"
expect_eq "$("$NSLAB" ustack stats "$ulab" web -o json | json 'd["nic_settings"]["rx_ring"]')" 64 \
  "ustack stats after set: the rx ring"
bytes=$("$NSLAB" exec "$ulab" client -- sh -c 'curl -s --max-time 10 http://10.8.0.2/bytes/1000 | wc -c')
expect_eq "$bytes" 1000 "HTTP from the ustack node after its NIC restarted"
set +e
bad=$("$NSLAB" ustack set "$ulab" web --rx-ring 100 2>&1)
bad_code=$?
set -e
[[ $bad_code -ne 0 ]] || fail "ustack set --rx-ring 100 (not a power of two) must fail"
expect_contains "$bad" "INVALID_ARGUMENT" "ustack set of a bad ring size"

for verb in diag trace ustack; do "$NSLAB" "$verb" --help >/dev/null; done

"$NSLAB" down "$ulab"
"$NSLAB" down "$lab"
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: diag, trace and ustack verbs passed"
