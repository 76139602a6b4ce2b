#!/usr/bin/env bash
# A verb run while nslabd is taking its labs up again after a start waits until it serves,
# says so once on stderr, and then does its work; `nslab health` reports NOT_SERVING as it is.
# The recovery is made slow on purpose: the participant node's stack starts through a wrapper
# that sleeps 3 s, as the daemon_conventions test does.
source "$(dirname "$0")/lib.sh"

USTACK=$(dirname "$NSLABD")/ustack/nslab-ustack
[[ -x $USTACK ]] || fail "no nslab-ustack beside nslabd ($USTACK)"
start_daemon

lab=e2e-$$-recovery
LABS_MADE+=("$lab")
"$NSLAB" up -t "$SRC/topologies/participant.yaml" --name "$lab" >/dev/null

# A crash: the lab stays, and the next start takes it up again.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
cat >"$WORK/slow-ustack.sh" <<SCRIPT
#!/bin/sh
sleep 3
exec "$USTACK" "\$@"
SCRIPT
chmod +x "$WORK/slow-ustack.sh"
"$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" --ustack-binary "$WORK/slow-ustack.sh" \
  2>>"$WORK/nslabd.log" &
DAEMON_PID=$!
# Until the socket answers at all: the health check says NOT_SERVING while the stack sleeps.
health=
for _ in $(seq 100); do
  health=$("$NSLAB" health 2>/dev/null) && break
  [[ $health == NOT_SERVING ]] && break
  sleep 0.05
done
expect_eq "$health" "NOT_SERVING" "nslab health during the recovery"

started=$EPOCHREALTIME
listed=$("$NSLAB" ls 2>"$WORK/ls.err") || fail "nslab ls during the recovery: $(cat "$WORK/ls.err")"
expect_contains "$listed" "$lab" "nslab ls once nslabd serves"
expect_contains "$(cat "$WORK/ls.err")" "waiting until it serves" "what nslab ls said while waiting"
[[ $(grep -c "waiting" "$WORK/ls.err") == 1 ]] || fail "said more than once: $(cat "$WORK/ls.err")"
awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 0.5) }' ||
  fail "nslab ls returned at once: it did not wait for the recovery"
expect_eq "$("$NSLAB" health)" "SERVING" "nslab health afterwards"

# A --timeout shorter than the recovery: the verb still reports nslabd's own answer.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
"$NSLABD" --socket "$NSLAB_SOCKET" --state-dir "$WORK/state" --ustack-binary "$WORK/slow-ustack.sh" \
  2>>"$WORK/nslabd.log" &
DAEMON_PID=$!
for _ in $(seq 100); do
  [[ $("$NSLAB" health 2>/dev/null || true) == NOT_SERVING ]] && break
  sleep 0.05
done
if out=$("$NSLAB" --timeout 1 ls 2>&1); then fail "nslab --timeout 1 ls exited 0 during the recovery"; fi
expect_contains "$out" "UNAVAILABLE" "nslab --timeout 1 ls during the recovery"
expect_contains "$out" "recovering" "nslab --timeout 1 ls during the recovery"
"$NSLAB" --timeout 30 down "$lab" >/dev/null
echo "PASS"
