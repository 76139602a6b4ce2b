#!/usr/bin/env bash
# `nslab up` and `nslab down` of a lab of a few hundred nodes print their progress on stderr:
# plain lines when stderr is not a terminal, counting to the lab's totals, then a closing
# "built:"/"removed:" line; stdout keeps only what it printed before. `nslab run` shows both. On a terminal one line
# is rewritten in place. Another client's `nslab events` sees the removal as PROGRESS events
# before LAB_DELETED. --no-progress prints none.
source "$(dirname "$0")/lib.sh"

# Every phase's end is reported, however quick: what is checked here must not depend on how
# fast this machine builds 400 nodes (by default nothing is shown of the first 500 ms).
start_daemon --progress-after 0

lab=e2e-$$-progress
LABS_MADE+=("$lab")
# Mininet's linear topology: 200 switches in a line, a host on each; 400 nodes, 399 links.
python3 "$SRC/tests/bench/lab_build/gen.py" --kind linear --n 400 --name "$lab" \
  --out "$WORK/gen" >/dev/null
topology=$WORK/gen/topology.yaml

out=$("$NSLAB" up -t "$topology" 2>"$WORK/up.err")
expect_eq "$out" "$lab" "up prints only the lab name on stdout"
up_err=$(cat "$WORK/up.err")
[[ $up_err != *$'\r'* ]] || fail "not a terminal, yet up rewrote a line: $up_err"
while IFS= read -r line; do
  [[ $line =~ ^building(,\ [a-z ]+\ [0-9]+/[0-9]+)?:\ nodes\ [0-9]+/400,\ links\ [0-9]+/399,\ [0-9]+\.[0-9]\ s$ ]] ||
    [[ $line =~ ^built:\ nodes\ 400/400,\ links\ 399/399,\ [0-9]+\.[0-9]\ s$ ]] ||
    fail "up's progress line '$line' is not of the expected form; all of it: $up_err"
done <<<"$up_err"
expect_contains "$up_err" "building: nodes 400/400, links 0/399" "the namespaces phase's end"
expect_contains "$up_err" "building: nodes 400/400, links 399/399" "the links phase's end"
expect_contains "$up_err" "building, links running 400/400: nodes 400/400, links 399/399" \
  "the last phase's end"
[[ $(tail -n1 <<<"$up_err") == "built: nodes 400/400, links 399/399, "* ]] ||
  fail "up's last line counts every node and link: $up_err"
(($(wc -l <<<"$up_err") <= 60)) || fail "too many progress lines for a log: $up_err"

"$NSLAB" events "$lab" -o json >"$WORK/events.json" 2>"$WORK/events.err" &
events_pid=$!
for _ in $(seq 200); do
  grep -q LAB_EVENT_KIND_UNSPECIFIED "$WORK/events.json" && break
  sleep 0.05
done
grep -q LAB_EVENT_KIND_UNSPECIFIED "$WORK/events.json" || fail "nslab events was not armed"

out=$("$NSLAB" down "$lab" 2>"$WORK/down.err")
expect_eq "$out" "" "down prints nothing on stdout"
down_err=$(cat "$WORK/down.err")
expect_contains "$down_err" "removing, stopping processes: nodes 0/400, links 0/399" \
  "the stopping phase"
[[ $(tail -n1 <<<"$down_err") == "removed: nodes 400/400, links 399/399, "* ]] ||
  fail "down's last line counts every node and link: $down_err"
wait "$events_pid" || fail "nslab events exited $?: $(cat "$WORK/events.err")"

python3 - "$WORK/events.json" <<'PY' || fail "nslab events -o json: $(cat "$WORK/events.json")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
kinds = [e["kind"] for e in events]
assert kinds[-1] == "LAB_EVENT_KIND_LAB_DELETED", kinds
progress = [e["progress"] for e in events if e["kind"] == "LAB_EVENT_KIND_PROGRESS"]
assert progress, kinds
assert all(p["operation"] == "LAB_OPERATION_REMOVE" for p in progress), progress
last = progress[-1]
assert last["phase"] == "LAB_PHASE_NAMESPACE_REMOVAL", last
assert (last["nodes_done"], last["nodes_total"]) == (400, 400), last
assert (last["links_done"], last["links_total"]) == (399, 399), last
assert kinds.index("LAB_EVENT_KIND_PROGRESS") < kinds.index("LAB_EVENT_KIND_LAB_DELETED")
PY

# `nslab run` builds and removes the lab itself: the same progress around its own lines.
ran=e2e-$$-progress-run
LABS_MADE+=("$ran")
"$NSLAB" run -t "$topology" --name "$ran" --in h1 -- true >"$WORK/run.out" 2>"$WORK/run.err" ||
  fail "nslab run: $(cat "$WORK/run.err")"
run_err=$(cat "$WORK/run.err")
expect_contains "$run_err" "built: nodes 400/400, links 399/399" "run's build progress"
expect_contains "$run_err" "removed: nodes 400/400, links 399/399" "run's removal progress"
err=$("$NSLAB" run -t "$topology" --name "$ran" --in h1 --no-progress -- true 2>&1 >/dev/null)
[[ $err != *"built:"* && $err != *"removed:"* ]] || fail "run --no-progress: $err"

# On a terminal (script(1) gives the CLI one): a line rewritten with \r, ended once.
small=e2e-$$-progress-tty
LABS_MADE+=("$small")
script -qec "$NSLAB up -t $SRC/topologies/quickstart.yaml --name $small" /dev/null \
  >"$WORK/tty.out" </dev/null || fail "up on a terminal: $(cat "$WORK/tty.out")"
tty_out=$(cat "$WORK/tty.out")
expect_contains "$tty_out" $'\rbuilding: nodes 2/2, links 0/1' "a line rewritten in place"
expect_contains "$tty_out" $'\rbuilt: nodes 2/2, links 1/1' "the closing count"
(($(grep -c . <<<"$tty_out") == 2)) || fail "one progress line, then the lab's name: $tty_out"

err=$("$NSLAB" down "$small" --no-progress 2>&1)
expect_eq "$err" "" "down --no-progress"
err=$("$NSLAB" up -t "$SRC/topologies/quickstart.yaml" --name "$small" --no-progress 2>&1 >/dev/null)
expect_eq "$err" "" "up --no-progress"
"$NSLAB" down "$small" --no-progress
echo "PASS"
