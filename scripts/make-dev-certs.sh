#!/usr/bin/env bash
# Development certificates for the SIP server's tls/wss listeners: a private CA
# and one server certificate it signs, for the given names and addresses
# (default: localhost and 127.0.0.1). Never for production: use certificates
# from a CA your peers trust, naming your SIP domain (RFC 5922).
#
#   scripts/make-dev-certs.sh DIR [NAME_OR_ADDRESS ...]
#
# Writes DIR/ca.pem, DIR/ca.key, DIR/server.pem, DIR/server.key (keys mode 0600).
set -euo pipefail
dir=${1:?usage: make-dev-certs.sh DIR [NAME_OR_ADDRESS ...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1)
mkdir -p "$dir"
umask 077
san=""
for n in "${names[@]}"; do
  if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then entry="IP:$n"; else entry="DNS:$n,URI:sip:$n"; fi
  san="${san:+$san,}$entry"
done
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 365 \
  -subj "/CN=Switchboard development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new "${ec[@]}" -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=${names[0]}" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -out "$dir/server.pem" -days 365 -extfile "$dir/server.ext" 2>/dev/null
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.pem" "$dir/server.pem"
echo "$dir: ca.pem, server.pem (subjectAltName $san), keys ca.key and server.key"
