#!/usr/bin/env bash
# Seeds for ca/parse_and_check_csr_fuzzer: one small valid CSR per accepted key type, DER and PEM.
# Re-run to regenerate (keys are fresh each time; the seeds only need to be valid requests).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make_csr() {  # name, genpkey options...
  local name=$1; shift
  openssl genpkey "$@" -out "$tmp/$name.key" 2>/dev/null
  openssl req -new -key "$tmp/$name.key" -subj "/CN=seed-$name" -sha256 -outform DER -out "$name.der"
  openssl req -new -key "$tmp/$name.key" -subj "/CN=seed-$name" -sha256 -out "$name.pem"
}
make_csr p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
make_csr p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
make_csr ed25519 -algorithm ED25519
make_csr rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
