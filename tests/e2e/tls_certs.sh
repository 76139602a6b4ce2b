#!/usr/bin/env bash
# A throwaway CA, a certificate for nslabd and one for a client, made with the openssl
# commands docs/api.md shows ("TCP, with mutual TLS"); the TLS tests make theirs with it.
#   tls_certs.sh DIR CA_NAME SERVER_NAMES
#   e.g. tls_certs.sh /tmp/pki "lab CA" IP:127.0.0.1,DNS:localhost
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key, DIR/client.pem, DIR/client.key.
set -euo pipefail
dir=$1
ca_name=$2
server_names=$3
mkdir -p "$dir"
cd "$dir"
umask 077  # the keys
# The CA: a self-signed certificate (CA:TRUE, from openssl.cnf's v3_ca) and its key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=$ca_name" -keyout ca.key -out ca.pem 2>/dev/null
# nslabd's certificate: the names clients reach it by, as subjectAltName.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nslabd" \
  -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$server_names" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
  -extfile server.ext -out server.pem 2>/dev/null
# A client's certificate: whoever holds it and its key may drive nslabd (root on its host).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nslab client" \
  -keyout client.key -out client.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
  -extfile client.ext -out client.pem 2>/dev/null
rm -f server.csr client.csr server.ext client.ext ca.srl
chmod 644 ca.pem server.pem client.pem
