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

# Chaos verbs as a CI job would use them.
printf 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    icmp type echo-request counter drop\n  }\n}\n' >"$WORK/fw.nft"
"$NSLAB" fw set "$lab" server -f "$WORK/fw.nft" >/dev/null
set +e
"$NSLAB" exec "$lab" client -- ping -c1 -W1 10.0.0.2 >/dev/null
blocked=$?
set -e
[[ $blocked -ne 0 ]] || fail "fw set: the ping should be dropped"
expect_contains "$("$NSLAB" fw show "$lab" server)" "icmp type echo-request drop" "fw show"
expect_contains "$("$NSLAB" fw show "$lab" server -o json)" '"packets": "1"' "fw show counts the drop"
"$NSLAB" fw flush "$lab" server >/dev/null
"$NSLAB" exec "$lab" client -- ping -c1 -W2 10.0.0.2 >/dev/null || fail "fw flush"
expect_contains "$("$NSLAB" link "$lab" client:eth0 down)" "server:eth0" "link down names both ends"
"$NSLAB" link "$lab" client:eth0 up >/dev/null
"$NSLAB" exec "$lab" client -- ping -c1 -W2 10.0.0.2 >/dev/null || fail "link up"
expect_contains "$("$NSLAB" partition "$lab" --groups client --groups server)" "partitioned" "partition"
expect_contains "$("$NSLAB" heal "$lab")" "healed" "heal"
expect_contains "$("$NSLAB" impair "$lab" client:eth0 --dir a_to_b --rate 10mbit)" "rate 10mbit" "impair"
expect_contains "$("$NSLAB" impair "$lab" --show)" "client:eth0 <-> server:eth0" "impair --show"
"$NSLAB" impair "$lab" client:eth0 --clear >/dev/null

"$NSLAB" --help >/dev/null
for verb in caps up ls show exec logs graph fw impair link partition heal down; do "$NSLAB" "$verb" --help >/dev/null; done

"$NSLAB" down "$lab"
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: CLI tour passed"
