#!/usr/bin/env bash
# Flow-scoped impairments on a veth from the CLI: `impair --match ... --rate` on a veth link
# sets a flow the kernel plays, `--show` lists it with the kernel's counters, `--clear` removes
# it. Skipped (exit 0, saying so) on a kernel without sch_htb or nftables' egress hook.
source "$(dirname "$0")/lib.sh"

lab=e2e-vflows-$$
before=$(netns_and_links "$lab-")
start_daemon
caps=$("$NSLAB" caps -o json)
if ! grep -q '"name": "nftables_egress",[[:space:]]*"available": true' <<<"$(tr -d '\n' <<<"$caps" | sed 's/,\s*/, /g')" ||
  ! grep -q '"name": "htb",[[:space:]]*"available": true' <<<"$(tr -d '\n' <<<"$caps" | sed 's/,\s*/, /g')"; then
  echo "e2e: skipped: this kernel has no sch_htb or nftables egress hook"
  exit 0
fi
LABS_MADE+=("$lab")

cat >"$WORK/veth.yaml" <<'YAML'
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth}
YAML
"$NSLAB" up -t "$WORK/veth.yaml" --name "$lab" >/dev/null
"$NSLAB" impair "$lab" client:eth0 --dir a_to_b --match 'tcp dport 5001' --rate 8mbit >/dev/null ||
  fail "impair --match --rate on a veth exited $?"
"$NSLAB" exec "$lab" client -- python3 -c \
  "import socket; s = socket.socket(); s.settimeout(2)
try: s.connect(('10.0.0.2', 5001))
except OSError: pass" >/dev/null 2>&1 || true
shown=$("$NSLAB" impair "$lab" --show)
expect_contains "$shown" "tcp dport 5001" "--show lists the veth's flow"
expect_contains "$shown" "MATCHED" "--show has the kernel's counters of a veth flow"
expect_contains "$shown" "a->b tcp dport 5001" "--show counts the flow by direction and match"
matched=$("$NSLAB" impair "$lab" --show -o json | grep -o '"offered": "[0-9]*"' | head -1)
expect_eq "$matched" '"offered": "1"' "the SYN to port 5001 is counted"

"$NSLAB" impair "$lab" client:eth0 --dir a_to_b --match 'tcp dport 5001' --clear >/dev/null ||
  fail "impair --match --clear exited $?"
shown=$("$NSLAB" impair "$lab" --show)
[[ $shown != *"tcp dport 5001"* ]] || fail "--clear left the flow: $shown"
qdiscs=$("$NSLAB" exec "$lab" client -- tc qdisc show dev eth0)
[[ $qdiscs != *htb* ]] || fail "--clear left the flow tree: $qdiscs"

"$NSLAB" down "$lab" >/dev/null
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: veth flows from the CLI passed"
