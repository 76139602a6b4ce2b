#!/usr/bin/env bash
# The README's tour, run as a user would: caps, up, ls, show, exec, down — and the host
# is as before.
source "$(dirname "$0")/lib.sh"

lab=e2e-$$
before=$(netns_and_links "$lab-")
start_daemon
LABS_MADE+=("$lab")

caps=$("$NSLAB" caps)
for feature in netns veth bridge tun netem tbf htb nftables vxlan; do
  expect_contains "$caps" "$feature" "caps lists $feature"
done
expect_contains "$("$NSLAB" caps -o json)" '"name": "netns"' "caps -o json"

out=$("$NSLAB" up -t "$SRC/topologies/quickstart.yaml" --name "$lab")
expect_eq "$out" "$lab" "up prints the lab name"

expect_contains "$("$NSLAB" ls)" "$lab" "ls lists the lab"
show=$("$NSLAB" show "$lab")
expect_contains "$show" "10.0.0.1/24" "show has client's address"
expect_contains "$show" "server:eth0" "show names the peer"
expect_contains "$("$NSLAB" show "$lab" -o json)" '"netns": "'"$lab"'-client"' "show -o json"
expect_contains "$("$NSLAB" -o yaml show "$lab")" "netns: $lab-server" "show -o yaml"

"$NSLAB" exec "$lab" client -- ping -c1 -W2 10.0.0.2 >/dev/null || fail "ping across the lab"
set +e
"$NSLAB" exec "$lab" client -- sh -c 'exit 3'
code=$?
"$NSLAB" exec "$lab" client -- ping -c1 -W1 10.0.0.99 >/dev/null 2>&1
ping_code=$?
err=$("$NSLAB" up -t "$SRC/topologies/quickstart.yaml" --name "$lab" 2>&1)
up_code=$?
missing=$("$NSLAB" show no-such-lab 2>&1)
set -e
expect_eq "$code" 3 "exec exits with the command's code"
[[ $ping_code -ne 0 ]] || fail "ping to an absent host must fail"
[[ $up_code -ne 0 ]] || fail "up of an existing name must fail"
expect_contains "$err" "ALREADY_EXISTS" "duplicate lab"
expect_contains "$missing" "NOT_FOUND" "show of a missing lab"

plan=$("$NSLAB" up --dry-run -t "$SRC/topologies/routed-chain.yaml" --name "$lab-plan")
expect_contains "$plan" "dry run, nothing built" "up --dry-run"
expect_contains "$plan" "add route 10.0.4.0/24 in left via 10.0.1.1" "dry run shows auto routes"
[[ ! -e /run/netns/$lab-plan-left ]] || fail "dry run built something"
expect_contains "$("$NSLAB" graph "$lab")" '"client" -- "server"' "graph of a running lab"
expect_contains "$("$NSLAB" graph -t "$SRC/topologies/star-switch.yaml" --format mermaid)" \
  "flowchart LR" "graph -t --format mermaid"
expect_eq "$("$NSLAB" logs "$lab" client)" "" "logs of a node without run: processes"

# Chaos verbs as a CI job would use them. Each is checked by its effect on the lab (traffic,
# the node's qdiscs and nftables), never by what the CLI prints about itself.
in_node() { local node=$1; shift; ip netns exec "$lab-$node" "$@"; }
# 0 if one ping from client reaches server within $1 seconds (2 unless given), else non-zero.
# Where a ping must fail, 1 s is the whole wait: the lab's veth answers in well under that.
ping_server() { "$NSLAB" exec "$lab" client -- ping -c1 -W"${1:-2}" 10.0.0.2 >/dev/null 2>&1; }

printf 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    icmp type echo-request counter drop\n  }\n}\n' >"$WORK/fw.nft"
"$NSLAB" fw set "$lab" server -f "$WORK/fw.nft" >/dev/null || fail "fw set exited $?"
! ping_server 1 || fail "fw set: the ping should be dropped"
expect_contains "$(in_node server nft list ruleset)" "icmp type echo-request counter packets 1" \
  "fw set: the rule is in server's namespace and counted the drop"
expect_contains "$("$NSLAB" fw show "$lab" server)" "icmp type echo-request drop" "fw show"
expect_contains "$("$NSLAB" fw show "$lab" server -o json)" '"packets": "1"' "fw show counts the drop"
"$NSLAB" fw flush "$lab" server >/dev/null || fail "fw flush exited $?"
ruleset=$(in_node server nft list ruleset)
[[ $ruleset != *echo-request* ]] || fail "fw flush: the rule is still in server's namespace: $ruleset"
ping_server || fail "fw flush: the ping should pass again"

expect_contains "$("$NSLAB" link "$lab" client:eth0 down)" "server:eth0" "link down names both ends"
expect_contains "$(in_node client ip -o link show dev eth0)" "state DOWN" "link down: client:eth0 is down"
! ping_server 1 || fail "link down: the ping should fail"
"$NSLAB" link "$lab" client:eth0 up >/dev/null || fail "link up exited $?"
ping_server || fail "link up: the ping should pass again"

"$NSLAB" partition "$lab" --groups client --groups server >/dev/null || fail "partition exited $?"
! ping_server 1 || fail "partition: client still reaches server"
"$NSLAB" heal "$lab" >/dev/null || fail "heal exited $?"
ping_server || fail "heal: client does not reach server"

"$NSLAB" impair "$lab" client:eth0 --dir a_to_b --rate 10mbit >/dev/null || fail "impair exited $?"
expect_contains "$(in_node client tc qdisc show dev eth0)" "rate 10Mbit" \
  "impair --rate: the qdisc on client:eth0"
expect_contains "$("$NSLAB" impair "$lab" --show)" "client:eth0 <-> server:eth0" "impair --show"
"$NSLAB" impair "$lab" client:eth0 --clear >/dev/null || fail "impair --clear exited $?"
qdiscs=$(in_node client tc qdisc show dev eth0)
[[ $qdiscs != *rate* ]] || fail "impair --clear: client:eth0 still shaped: $qdiscs"
shown=$("$NSLAB" impair "$lab" --show)
[[ $shown != *client:eth0* ]] || fail "impair --clear: --show still lists the link: $shown"

"$NSLAB" --help >/dev/null
for verb in caps up ls show exec logs graph fw impair link partition heal down; do "$NSLAB" "$verb" --help >/dev/null; done

"$NSLAB" down "$lab"
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: CLI tour passed"
