#!/usr/bin/env bash
# `nslab show` and `nslab fw show` print what a node really presents: a ustack node's own
# interface (its stack's address, MAC, MTU and routes, not just the kernel's bridge and TAP
# it sits behind), and a rule that only counts as the statement it is.
source "$(dirname "$0")/lib.sh"

start_daemon

lab=e2e-$$-faces
LABS_MADE+=("$lab")
cat >"$WORK/faces.yaml" <<YAML
nodes:
  client: {kind: host}
  web: {kind: ustack, services: [{tcp: 7, app: echo}]}
links:
  - {a: client:eth0, b: web:eth0, a_addr: 10.8.0.1/24, b_addr: 10.8.0.2/24, b_mac: "02:00:00:00:08:02", mtu: 1400}
routes:
  web: [{to: default, via: 10.8.0.1}]
YAML
"$NSLAB" up -t "$WORK/faces.yaml" --name "$lab" >/dev/null || fail "up"

shown=$("$NSLAB" show "$lab")
stack_row=$(grep -F "eth0 (stack)" <<<"$shown") || fail "no row for web's stack in: $shown"
for part in 02:00:00:00:08:02 1400 10.8.0.2/24 client:eth0; do
  expect_contains "$stack_row" "$part" "web's stack row"
done
expect_contains "$shown" "ustack routes (the stack's own table):" "the stack's routes"
expect_contains "$(grep -F "default via 10.8.0.1" <<<"$shown")" "topology" "the route's source"

json=$("$NSLAB" show "$lab" -o json)
stack=$(python3 -c '
import json, sys
lab = json.load(sys.stdin)
web = [n for n in lab["nodes"] if n["name"] == "web"][0]
print(json.dumps(web["stack"], sort_keys=True))' <<<"$json")
expect_eq "$stack" '{"addresses": ["10.8.0.2/24"], "mac": "02:00:00:00:08:02", "mtu": 1400, "name": "eth0", "routes": ["default via 10.8.0.1"], "source": "topology"}' "show -o json: web's stack"
yaml=$("$NSLAB" show "$lab" -o yaml)
expect_contains "$yaml" "10.8.0.2/24" "show -o yaml: web's stack address"
expect_contains "$yaml" "default via 10.8.0.1" "show -o yaml: web's stack route"

# A stack given no MAC picks a random one: show prints the one it runs with, the one the
# client's kernel learned by ARP.
random_lab=e2e-$$-randmac
LABS_MADE+=("$random_lab")
cat >"$WORK/randmac.yaml" <<YAML
nodes:
  client: {kind: host}
  web: {kind: ustack, services: [{tcp: 7, app: echo}]}
links:
  - {a: client:eth0, b: web:eth0, a_addr: 10.8.1.1/24, b_addr: 10.8.1.2/24}
YAML
"$NSLAB" up -t "$WORK/randmac.yaml" --name "$random_lab" >/dev/null || fail "up $random_lab"
"$NSLAB" exec "$random_lab" client -- ping -c 1 -W 2 -q 10.8.1.2 >/dev/null || fail "ping web"
learned=$("$NSLAB" exec "$random_lab" client -- ip -br neigh show 10.8.1.2 | awk '{print $3}')
shown_mac=$("$NSLAB" show "$random_lab" -o json | python3 -c '
import json, sys
lab = json.load(sys.stdin)
print([n for n in lab["nodes"] if n["name"] == "web"][0]["stack"]["mac"])')
[[ $learned =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || fail "the client learned no MAC for web: '$learned'"
expect_eq "$shown_mac" "$learned" "show's MAC of a stack that picked its own"
"$NSLAB" down "$random_lab" >/dev/null

# A rule that only counts: its statement in RULE, its numbers in PKTS and BYTES.
printf 'table inet faces {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    counter\n  }\n}\n' >"$WORK/count.nft"
"$NSLAB" fw set "$lab" client -f "$WORK/count.nft" >/dev/null || fail "fw set"
"$NSLAB" exec "$lab" client -- ping -c 2 -W 1 -q 127.0.0.1 >/dev/null || fail "ping"
rule=$("$NSLAB" fw show "$lab" client | grep -F "inet faces") || fail "no rule listed"
read -r packets bytes _ _ chain handle text <<<"$rule"
expect_eq "$chain" "in" "the rule's chain"
expect_eq "$text" "counter" "the RULE cell of a counter-only rule"
[[ $packets -ge 2 && $bytes -gt 0 ]] || fail "counters: packets $packets bytes $bytes (handle $handle)"

"$NSLAB" down "$lab" >/dev/null
echo "e2e: show and fw show tell the truth"
