#!/usr/bin/env bash
# Seeds for parse_ocsp_request_fuzzer and decode_ocsp_get_path_fuzzer: real requests made by
# `openssl ocsp -reqout` for a throwaway CA and two leaves (keys and certificates are discarded).
# Run from anywhere; rewrites the .der/.txt seeds beside this script and in ../decode_ocsp_get_path_fuzzer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
get="$here/../decode_ocsp_get_path_fuzzer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj "/O=Keyline Seeds/CN=Seed CA" -days 3650 \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
for leaf in leaf1 leaf2; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $leaf.key -out $leaf.csr \
    -subj "/O=Keyline Seeds/CN=$leaf" 2>/dev/null
  openssl x509 -req -in $leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x$(openssl rand -hex 16 | sed 's/^[89a-f]/7/') \
    -days 30 -out $leaf.pem 2>/dev/null
done

openssl ocsp -issuer ca.pem -cert leaf1.pem -reqout "$here/sha1_nonce.der"
openssl ocsp -issuer ca.pem -cert leaf1.pem -no_nonce -reqout "$here/sha1.der"
openssl ocsp -sha256 -issuer ca.pem -cert leaf1.pem -no_nonce -reqout "$here/sha256.der"
openssl ocsp -issuer ca.pem -cert leaf1.pem -cert leaf2.pem -reqout "$here/two_certids_nonce.der"
openssl ocsp -issuer ca.pem -cert leaf2.pem -signer leaf2.pem -signkey leaf2.key \
  -reqout "$here/signed_nonce.der"

# GET paths: plain base64, and the same with '+', '/' and '=' percent-escaped.
for name in sha1 sha1_nonce sha256; do
  text=$(openssl base64 -A -in "$here/$name.der")
  printf '%s' "$text" > "$get/$name.txt"
  printf '%s' "$text" | sed -e 's/+/%2B/g' -e 's,/,%2F,g' -e 's/=/%3D/g' > "$get/${name}_escaped.txt"
done
