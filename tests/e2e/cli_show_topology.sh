#!/usr/bin/env bash
# `nslab show LAB --topology` prints a running lab's topology as YAML that `nslab up` takes
# again, from any directory: the lab comes back with the same topology. Checked for every
# example in topologies/, as GetLab's Lab.topology (JSON) and as the printed text.
source "$(dirname "$0")/lib.sh"

start_daemon

topology_json() {
  "$NSLAB" show "$1" -o json |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["topology"], sort_keys=True))'
}

for file in "$SRC"/topologies/*.yaml; do
  short=$(basename "$file" .yaml | cut -c1-12)
  lab=e2e-$$-${short%-}  # a lab name does not end with '-' (participant-faults)
  LABS_MADE+=("$lab")
  "$NSLAB" up -t "$file" --name "$lab" >/dev/null || fail "up $file"
  printed=$WORK/$lab.yaml
  "$NSLAB" show "$lab" --topology >"$printed" || fail "show --topology of $lab exited $?"
  expect_contains "$(cat "$printed")" "name: $lab" "$file: the printed topology names the lab"
  before=$(topology_json "$lab")
  "$NSLAB" down "$lab" >/dev/null

  # From elsewhere: a file the topology named is not beside the printed one; its text is.
  (cd / && "$NSLAB" up -t "$printed" >/dev/null) || fail "up of the topology printed from $file"
  expect_eq "$(topology_json "$lab")" "$before" "$file: GetLab's topology after up of the print"
  "$NSLAB" show "$lab" --topology >"$printed.again"
  diff -u "$printed" "$printed.again" || fail "$file: printed differently the second time"
  "$NSLAB" down "$lab" >/dev/null
done

# A ruleset from a file is printed inline, beside the name it came from.
lab=e2e-$$-fwfile
LABS_MADE+=("$lab")
"$NSLAB" up -t "$SRC/topologies/firewall-file.yaml" --name "$lab" >/dev/null
shown=$("$NSLAB" show "$lab" --topology)
expect_contains "$shown" "nftables_file: firewall-file.nft" "the file's name is kept"
expect_contains "$shown" "nftables: |" "the file's text is inline"
expect_contains "$shown" "$(head -n1 "$SRC/topologies/firewall-file.nft")" "the file's first line"
"$NSLAB" down "$lab" >/dev/null

set +e
missing=$("$NSLAB" show no-such-lab --topology 2>&1)
code=$?
set -e
[[ $code -ne 0 ]] || fail "show --topology of a missing lab must fail"
expect_contains "$missing" "NOT_FOUND" "show --topology of a missing lab"
echo "e2e: show --topology round trip passed"
