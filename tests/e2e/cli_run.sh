#!/usr/bin/env bash
# `nslab run` as a CI job drives it: a passing scenario exits 0 with an all-passing JUnit file,
# a wrong check exits 1 with a <failure> naming it, a misspelt action exits 2 and builds
# nothing, `--in NODE -- CMD` exits by the command — and nothing is left after any of them.
source "$(dirname "$0")/lib.sh"

lab=e2e-run-$$
before=$(netns_and_links "$lab")
start_daemon

topology=$SRC/topologies/web-pair.yaml
xml_ok() { /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$1"; }
json_ok() { /usr/bin/python3 -c 'import sys, json; json.load(open(sys.argv[1]))' "$1"; }
run() { set +e; out=$("$NSLAB" run "$@" 2>"$WORK/run.err"); code=$?; set -e; err=$(cat "$WORK/run.err"); }

# 1. A passing scenario.
run -t "$topology" --name "$lab-a" -s "$SRC/scenarios/partition-failover.yaml" \
  --junit "$WORK/a.xml" --json "$WORK/a.json"
expect_eq "$code" 0 "a passing scenario exits 0 (out: $out; err: $err)"
xml_ok "$WORK/a.xml" || fail "the JUnit file is not XML"
json_ok "$WORK/a.json" || fail "the JSON report is not JSON"
junit=$(cat "$WORK/a.xml")
expect_contains "$junit" 'name="web1-unreachable"' "JUnit has a testcase per check"
expect_contains "$junit" 'failures="0"' "JUnit counts no failure"
grep -q '<failure' "$WORK/a.xml" && fail "a passing run's JUnit has a <failure>"
expect_contains "$(cat "$WORK/a.json")" '"planned_ms"' "the JSON report has planned offsets"
expect_contains "$err" "step applied" "run prints the scenario's events"

# 2. A check that is wrong: nothing listens on port 9.
cat >"$WORK/wrong.yaml" <<'YAML'
name: wrong-expectation
steps:
  - {at: 0s, check: {name: discard-port-answers, from: client, tcp: "10.60.0.12:9", within: 1s}}
YAML
run -t "$topology" --name "$lab-b" -s "$WORK/wrong.yaml" --junit "$WORK/b.xml" --json "$WORK/b.json"
expect_eq "$code" 1 "a failing check exits 1 (out: $out; err: $err)"
xml_ok "$WORK/b.xml" || fail "the failing run's JUnit is not XML"
expect_contains "$(cat "$WORK/b.xml")" '<failure' "JUnit has a <failure>"
expect_contains "$(cat "$WORK/b.xml")" 'name="discard-port-answers"' "the failure names the check"
expect_contains "$(cat "$WORK/b.json")" '"snapshot"' "a failed run carries the diagnostics snapshot"

# 3. A misspelt action: refused before anything is built.
cat >"$WORK/misspelt.yaml" <<'YAML'
name: misspelt
steps:
  - {at: 0s, partiton: {groups: [[client], [web1]]}}
YAML
run -t "$topology" --name "$lab-c" -s "$WORK/misspelt.yaml"
expect_eq "$code" 2 "a misspelt action exits 2"
expect_contains "$err" "partiton" "the error names the key"
expect_contains "$err" "misspelt.yaml: " "the error names the file (nslabd read its text)"
expect_contains "$err" "line 3" "the error names the line"
[[ -z $(ls /run/netns 2>/dev/null | grep "^$lab-c" || true) ]] || fail "bad input built something"

# 4. A scenario naming a node the topology lacks: refused before building, too.
cat >"$WORK/missing-node.yaml" <<'YAML'
name: missing-node
steps:
  - {at: 0s, kill: {node: web3}}
YAML
run -t "$topology" --name "$lab-d" -s "$WORK/missing-node.yaml"
expect_eq "$code" 2 "a scenario naming a missing node exits 2"
expect_contains "$err" "web3" "the error names the node"

# 5. The command decides.
run -t "$topology" --name "$lab-e" --in client -- sh -c 'echo from-client; exit 0'
expect_eq "$code" 0 "--in NODE -- true exits 0 (err: $err)"
expect_contains "$out" "from-client" "the command's output is streamed"
run -t "$topology" --name "$lab-f" --junit "$WORK/f.xml" --in client -- sh -c 'exit 4'
expect_eq "$code" 1 "--in NODE -- false exits 1"
expect_contains "$(cat "$WORK/f.xml")" "exited with 4" "the command is a JUnit testcase"

# 6. A cancelled CI job (SIGINT or SIGTERM): the command and the scenario stop, the lab is still
#    removed and the reports written; exit 3.
"$NSLAB" run -t "$topology" --name "$lab-g" --junit "$WORK/g.xml" --in client -- sleep 120 \
  >/dev/null 2>"$WORK/g.err" &
run_pid=$!
for _ in $(seq 300); do  # until the lab is up: nothing to interrupt before that
  "$NSLAB" ls 2>/dev/null | grep -q "$lab-g" && break
  sleep 0.1
done
"$NSLAB" ls | grep -q "$lab-g" || fail "nslab run never built $lab-g: $(cat "$WORK/g.err")"
kill -TERM "$run_pid"
set +e; wait "$run_pid"; code=$?; set -e
expect_eq "$code" 3 "an interrupted run exits 3 ($(cat "$WORK/g.err"))"
expect_contains "$(cat "$WORK/g.err")" "interrupted by SIGTERM" "the run says why it stopped"
[[ -z $("$NSLAB" ls | grep "$lab-g" || true) ]] || fail "an interrupted run left its lab"
xml_ok "$WORK/g.xml" || fail "an interrupted run's JUnit is not XML"

# Nothing is left: namespaces, links, processes, state files.
after=$(netns_and_links "$lab")
expect_eq "$after" "$before" "no namespace or link is left"
[[ -z $(ls "$WORK/state" 2>/dev/null | grep "^$lab" || true) ]] || fail "state files left"
[[ -z $("$NSLAB" ls | grep "$lab" || true) ]] || fail "a lab is still listed"
echo "e2e run: ok"
