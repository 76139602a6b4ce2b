#!/usr/bin/env bash
# `nslab events LAB` follows a lab: a NOTICE line once armed, a link going down and up, and
# LAB_DELETED last, after which it exits 0; `-o json` prints one JSON object per line; an
# unknown lab is an error with the daemon's message.
source "$(dirname "$0")/lib.sh"

start_daemon

# Waits (bounded) until file $1 holds a line containing $2.
wait_for_line() {
  for _ in $(seq 200); do
    grep -qF -- "$2" "$1" && return 0
    sleep 0.05
  done
  fail "no line with '$2' in $1: $(cat "$1")"
}

lab=e2e-$$-events
LABS_MADE+=("$lab")
"$NSLAB" up -t "$SRC/topologies/quickstart.yaml" --name "$lab" >/dev/null

"$NSLAB" events "$lab" >"$WORK/events.txt" 2>"$WORK/events.err" &
table_pid=$!
"$NSLAB" events "$lab" -o json >"$WORK/events.json" 2>&1 &
json_pid=$!
wait_for_line "$WORK/events.txt" "NOTICE"
wait_for_line "$WORK/events.json" "LAB_EVENT_KIND_UNSPECIFIED"

"$NSLAB" link "$lab" client:eth0 down --end a >/dev/null
wait_for_line "$WORK/events.txt" "client:eth0 down"
"$NSLAB" link "$lab" client:eth0 up --end a >/dev/null
wait_for_line "$WORK/events.txt" "client:eth0 up"
"$NSLAB" down "$lab" >/dev/null

wait "$table_pid" || fail "nslab events exited $? after the lab was deleted: $(cat "$WORK/events.err")"
wait "$json_pid" || fail "nslab events -o json exited $?"
table=$(cat "$WORK/events.txt")
expect_contains "$table" "LINK_STATE  client:eth0  client:eth0 down" "a line per event"
expect_contains "$(tail -n1 <<<"$table")" "LAB_DELETED" "the last line"
[[ $(head -n1 <<<"$table") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ \ NOTICE ]] ||
  fail "the first line starts with a UTC time and NOTICE: $(head -n1 <<<"$table")"

python3 - "$WORK/events.json" <<'PY' || fail "nslab events -o json: $(cat "$WORK/events.json")"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
kinds = [event["kind"] for event in events]
assert kinds[0] == "LAB_EVENT_KIND_UNSPECIFIED", kinds
assert kinds[-1] == "LAB_EVENT_KIND_LAB_DELETED", kinds
assert any(e["message"] == "client:eth0 down" for e in events), events
PY

if err=$("$NSLAB" events "e2e-$$-nosuchlab" 2>&1); then fail "events of an unknown lab exited 0"; fi
expect_contains "$err" "NOT_FOUND" "events of an unknown lab"
expect_contains "$err" "does not exist" "events of an unknown lab"
echo "PASS"
