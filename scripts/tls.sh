#!/usr/bin/env bash
# Self-signed TLS for the native stack: a certificate for localhost, 127.0.0.1
# and ::1 in $WB_RUN_DIR/tls (cert.pem, key.pem), made with Debian's mkcert when
# present (its CA lives in $WB_RUN_DIR/tls/ca: nothing in $HOME, nothing
# installed in any trust store), with openssl otherwise. Idempotent: an existing
# certificate valid for at least another day is kept.
# Also writes spki.txt: base64(sha256(SubjectPublicKeyInfo)) of the certificate,
# for Chromium's --ignore-certificate-errors-spki-list (QUIC ignores
# --ignore-certificate-errors), and ca.pem: the CA to trust (mkcert's root, or
# the self-signed certificate itself).
set -euo pipefail
. "$(dirname "$0")/env.sh"
dir=$WB_RUN_DIR/tls
mkdir -p "$dir"
cert=$dir/cert.pem key=$dir/key.pem

valid() {
  [ -s "$cert" ] && [ -s "$key" ] || return 1
  openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  local san
  san=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null) || return 1
  case $san in *DNS:localhost*) ;; *) return 1 ;; esac
  case $san in *127.0.0.1*) ;; *) return 1 ;; esac
  # the key must match the certificate
  [ "$(openssl x509 -in "$cert" -noout -pubkey | openssl sha256)" = \
    "$(openssl pkey -in "$key" -pubout | openssl sha256)" ]
}

if ! valid; then
  rm -f "$cert" "$key"
  if command -v mkcert >/dev/null 2>&1 && [ "${WB_TLS_OPENSSL:-0}" != 1 ]; then
    export CAROOT=$dir/ca
    mkdir -p "$CAROOT"
    # TRUST_STORES=none: create the CA if needed, never touch a trust store.
    TRUST_STORES=none mkcert -cert-file "$cert" -key-file "$key" localhost 127.0.0.1 ::1 >/dev/null 2>&1
    cp "$CAROOT/rootCA.pem" "$dir/ca.pem"
    echo "tls: mkcert certificate for localhost, 127.0.0.1, ::1 (CA in $CAROOT)"
  else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
      -keyout "$key" -out "$cert" -subj "/CN=localhost/O=whiteboard dev" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
      -addext "basicConstraints=critical,CA:FALSE" \
      -addext "keyUsage=critical,digitalSignature" \
      -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
    cp "$cert" "$dir/ca.pem"
    echo "tls: openssl self-signed certificate for localhost, 127.0.0.1, ::1"
  fi
  chmod 600 "$key"
fi

spki=$(openssl x509 -in "$cert" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
[ "$(cat "$dir/spki.txt" 2>/dev/null)" = "$spki" ] || echo "$spki" > "$dir/spki.txt"
