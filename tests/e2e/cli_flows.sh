#!/usr/bin/env bash
# Flow-scoped impairments from the CLI: the example's flows are listed, `impair --match` sets,
# lets through and removes one flow of a wire link, and a bad match is refused with a message
# that says what to write.
source "$(dirname "$0")/lib.sh"

lab=e2e-flows-$$
before=$(netns_and_links "$lab-")
start_daemon
LABS_MADE+=("$lab")

"$NSLAB" up -t "$SRC/topologies/flows.yaml" --name "$lab" >/dev/null
shown=$("$NSLAB" impair "$lab" --show)
expect_contains "$shown" "tcp dport 5432" "--show lists the example's flow"
expect_contains "$shown" "passes untouched" "--show says the cache's flow passes untouched"

"$NSLAB" impair "$lab" app:eth0 --dir a_to_b --match 'udp  dport 53' --loss 20% >/dev/null ||
  fail "impair --match exited $?"
shown=$("$NSLAB" impair "$lab" --show)
expect_contains "$shown" "udp dport 53" "--show lists the flow set at runtime"
json=$("$NSLAB" impair "$lab" --show -o json)
expect_contains "$json" '"match_text": "udp dport 53"' "--show -o json has the flow"

"$NSLAB" impair "$lab" app:eth0 --dir a_to_b --match 'udp dport 53' --pass >/dev/null ||
  fail "impair --match --pass exited $?"
"$NSLAB" impair "$lab" app:eth0 --dir a_to_b --match 'udp dport 53' --clear >/dev/null ||
  fail "impair --match --clear exited $?"
shown=$("$NSLAB" impair "$lab" --show)
[[ $shown != *"udp dport 53"* ]] || fail "--clear left the flow: $shown"

set +e
err=$("$NSLAB" impair "$lab" app:eth0 --match 'dport 53' --delay 1ms 2>&1)
code=$?
set -e
expect_eq "$code" 2 "a bad --match exits 2"
expect_contains "$err" "tcp dport 53" "a bad --match says what to write"

"$NSLAB" down "$lab" >/dev/null
expect_eq "$(netns_and_links "$lab-")" "$before" "host namespaces and links after down"
echo "e2e: flows from the CLI passed"
