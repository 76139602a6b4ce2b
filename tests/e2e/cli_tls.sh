#!/usr/bin/env bash
# nslab over TCP, as a user on another machine drives nslabd: mutual TLS with the
# certificates tls_certs.sh makes (docs/api.md's commands), by flags and by environment; a
# lab built and used through it; and each way of getting it wrong, refused with a message
# that says what to fix.
source "$(dirname "$0")/lib.sh"

lab=e2etls-$$
before=$(netns_and_links "$lab-")
# nslabd's certificate names it nslabd.lab.test only: reached by 127.0.0.1, the client must
# be told which name to expect (--tls-server-name), as with a lab reached by its IP address.
bash "$SRC/tests/e2e/tls_certs.sh" "$WORK/pki" "e2e CA" DNS:nslabd.lab.test
bash "$SRC/tests/e2e/tls_certs.sh" "$WORK/other" "another CA" DNS:nslabd.lab.test
pki=$WORK/pki
start_daemon --listen 127.0.0.1:0 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
  --tls-ca "$pki/ca.pem"
port=$(grep -o 'mutual TLS, port [0-9]*' "$WORK/nslabd.log" | grep -o '[0-9]*$' || true)
[[ -n $port ]] || fail "nslabd's log names no TCP port: $(cat "$WORK/nslabd.log")"
address=127.0.0.1:$port
# NSLAB_SOCKET stays set (cleanup uses it): --address wins over it.
server=(--address "$address" --tls-server-name nslabd.lab.test)
tls=("${server[@]}" --tls-ca "$pki/ca.pem" --tls-cert "$pki/client.pem" --tls-key "$pki/client.key")

"$NSLAB" "${tls[@]}" ls >/dev/null || fail "ls over mutual TLS"
LABS_MADE+=("$lab")
out=$("$NSLAB" "${tls[@]}" up -t "$SRC/topologies/quickstart.yaml" --name "$lab")
expect_eq "$out" "$lab" "up over mutual TLS"
"$NSLAB" "${tls[@]}" exec "$lab" client -- ping -c1 -W2 10.0.0.2 >/dev/null ||
  fail "exec over mutual TLS"
expect_contains "$("$NSLAB" "${tls[@]}" ls)" "$lab" "ls over mutual TLS lists the lab"

# The same from the environment, the flags' names in capitals.
expect_contains "$(NSLAB_ADDRESS=$address NSLAB_TLS_CA=$pki/ca.pem NSLAB_TLS_CERT=$pki/client.pem \
  NSLAB_TLS_KEY=$pki/client.key "$NSLAB" --tls-server-name nslabd.lab.test ls)" "$lab" \
  "ls with NSLAB_ADDRESS and NSLAB_TLS_*"

set +e
# A certificate from another CA: nslabd refuses the handshake; the message says where to look.
other=$("$NSLAB" "${server[@]}" --tls-ca "$pki/ca.pem" --tls-cert "$WORK/other/client.pem" \
  --tls-key "$WORK/other/client.key" ls 2>&1)
other_code=$?
# nslabd's certificate does not name 127.0.0.1: without --tls-server-name the client refuses.
unnamed=$("$NSLAB" --address "$address" "${tls[@]:4}" ls 2>&1)
unnamed_code=$?
# No TLS files at all: refused before connecting, naming what to add.
bare=$("$NSLAB" --address "$address" ls 2>&1)
bare_code=$?
missing=$("$NSLAB" "${server[@]}" --tls-ca "$WORK/no-such-ca.pem" --tls-cert "$pki/client.pem" \
  --tls-key "$pki/client.key" ls 2>&1)
missing_code=$?
notpem=$("$NSLAB" "${server[@]}" --tls-ca "$pki/ca.pem" --tls-cert "$pki/client.pem" \
  --tls-key "$pki/client.pem" ls 2>&1)
notpem_code=$?
set -e
expect_eq "$other_code" 69 "a client certificate from another CA is refused (exit 69)"
expect_contains "$other" "nslab: UNAVAILABLE:" "another CA: the gRPC status"
expect_contains "$other" "check the certificates" "another CA: what to check"
expect_eq "$unnamed_code" 69 "a server certificate without the address's name is refused"
expect_contains "$unnamed" "or set --tls-server-name" "unnamed: what to set"
expect_eq "$bare_code" 2 "--address without TLS files"
expect_contains "$bare" "nslabd serves TCP with mutual TLS only; add --tls-ca FILE" "bare: what to add"
expect_contains "$bare" "NSLAB_TLS_CERT" "bare: the environment too"
expect_eq "$missing_code" 2 "an unreadable --tls-ca"
expect_contains "$missing" "--tls-ca: cannot read $WORK/no-such-ca.pem" "missing: names the file"
expect_eq "$notpem_code" 2 "a certificate given as the key"
expect_contains "$notpem" "--tls-key $pki/client.pem: not PEM text with a PRIVATE KEY----- line" \
  "not a key: names the file"

# An explicit --socket wins over NSLAB_ADDRESS.
expect_contains "$(NSLAB_ADDRESS=$address "$NSLAB" --socket "$WORK/nslabd.sock" ls)" "$lab" \
  "--socket over NSLAB_ADDRESS"

"$NSLAB" "${tls[@]}" down "$lab" >/dev/null
LABS_MADE=()
expect_eq "$(netns_and_links "$lab-")" "$before" "the host is as before"
echo "cli_tls: passed"
